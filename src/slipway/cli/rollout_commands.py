"""Release commands: ``slipway deploy``, ``slipway rollout``, ``slipway rollback``, ``slipway status``,
``slipway ab report``. Each is one call into ``Slipway`` (``slipway.rollout`` does the work)."""

from __future__ import annotations

import time
from typing import Any

import click

from slipway.cli.context import slipway
from slipway.cli.output import console, print_json, print_table
from slipway.core.deployment import DeploymentRecord
from slipway.rollout.routing import Traffic


class _DefaultGroup(click.Group):
    """``slipway rollout NAME REF ...`` starts a rollout; ``slipway rollout approve NAME`` etc. act on one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


def _describe(record: DeploymentRecord) -> str:
    traffic = Traffic.of(record)
    candidate = record.candidate.ref if record.candidate else "none"
    share = f"{traffic.candidate_percent:g}% to candidate" + (
        f", {traffic.mirror_percent:g}% mirrored" if traffic.mirror_percent else ""
    )
    return (
        f"deployment {record.name}: {record.state} ({record.policy.get('strategy')}), "
        f"stable {record.stable.ref}, candidate {candidate}, {share}, generation {record.generation}"
    )


def _slot_options(runtime: str | None, lookups: str | None, trust_pickle: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"runtime": runtime, "lookups": lookups}
    if trust_pickle:
        options["trust_pickle"] = True
    return {key: value for key, value in options.items() if value is not None}


_slot = [
    click.option("--runtime", type=click.Choice(["auto", "native", "compiled"]), help="Runtime of the slot."),
    click.option("--lookups", help="Lookup overrides for the slot (YAML/JSON file)."),
    click.option("--trust-pickle", is_flag=True, help="Accept a pickle model (runs code on load!)."),
]


def _with_slot_options(function: Any) -> Any:
    for option in reversed(_slot):
        function = option(function)
    return function


@click.command("deploy")
@click.argument("name")
@click.argument("model_ref", metavar="MODEL_REF")
@_with_slot_options
def deploy(name: str, model_ref: str, runtime: str | None, lookups: str | None, trust_pickle: bool) -> None:
    """Create deployment NAME serving MODEL_REF alone (or replace its stable version when no rollout runs)."""
    record = slipway().deploy(name, model_ref, options=_slot_options(runtime, lookups, trust_pickle))
    console.print(_describe(record))


@click.group("rollout", cls=_DefaultGroup)
def rollout() -> None:
    """Release a version: `slipway rollout start NAME MODEL_REF --strategy canary|blue-green|ab|shadow`."""


@rollout.command("start")
@click.argument("name")
@click.argument("model_ref", metavar="MODEL_REF")
@click.option(
    "--strategy",
    type=click.Choice(["canary", "blue-green", "ab", "shadow"]),
    default="canary",
    show_default=True,
)
@click.option("--steps", help="Canary percentages, increasing, ending at 100 [5,25,50,100].")
@click.option("--min-requests", type=int, help="Candidate requests each canary step needs [200].")
@click.option("--min-seconds", type=float, help="Seconds each canary step runs at least [60].")
@click.option("--approval", is_flag=True, help="Wait for `slipway rollout approve` before the last step.")
@click.option("--split", type=float, help="A/B: percent of users on the candidate [50].")
@click.option("--shadow-percent", type=float, help="Shadow: percent of requests mirrored [100].")
@_with_slot_options
def start(
    name: str,
    model_ref: str,
    strategy: str,
    steps: str | None,
    min_requests: int | None,
    min_seconds: float | None,
    approval: bool,
    split: float | None,
    shadow_percent: float | None,
    runtime: str | None,
    lookups: str | None,
    trust_pickle: bool,
) -> None:
    """Put MODEL_REF beside deployment NAME's stable version and start moving traffic to it."""
    given = {
        "steps": steps,
        "min_requests": min_requests,
        "min_seconds": min_seconds,
        "split": split,
        "shadow_percent": shadow_percent,
        "approval": approval or None,
    }
    policy = {key: value for key, value in given.items() if value is not None}
    options = _slot_options(runtime, lookups, trust_pickle)
    record = slipway().rollout(name, model_ref, strategy=strategy, options=options, **policy)
    console.print(_describe(record))


@rollout.command("approve")
@click.argument("name")
def approve(name: str) -> None:
    """Approve the last step of a canary that waits for it."""
    console.print(_describe(slipway().rollouts.approve(name)))


@rollout.command("switch")
@click.argument("name")
def switch(name: str) -> None:
    """Blue-green: send all traffic to the candidate now (the server does this after its smoke test)."""
    console.print(_describe(slipway().rollouts.switch(name)))


@rollout.command("retire")
@click.argument("name")
def retire(name: str) -> None:
    """Blue-green: retire the old version kept for rollback; the new one becomes stable."""
    console.print(_describe(slipway().rollouts.retire(name)))


@rollout.command("promote")
@click.argument("name")
@click.option("--reason", help="Why (recorded in the audit trail).")
def promote(name: str, reason: str | None) -> None:
    """End the rollout now with the candidate as the new stable (e.g. an A/B winner)."""
    console.print(_describe(slipway().rollouts.promote(name, reason=reason)))


@rollout.command("watch")
@click.argument("name")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option("--once", is_flag=True, help="Analyze and act once, then exit.")
def watch(name: str, interval: float, once: bool) -> None:
    """Run the canary controller: analyze each step and promote, hold or roll back until it ends."""
    rollouts = slipway().rollouts
    while True:
        record, verdict, action = rollouts.tick(name)
        if verdict is not None:
            console.print(f"{verdict.decision}: {'; '.join(verdict.reasons)}")
        if action is not None:
            console.print(f"{action} -> {_describe(record)}")
        if once or (verdict is None and action is None):
            return
        time.sleep(interval)


@click.command("rollback")
@click.argument("name")
@click.option("--reason", help="Why (recorded in the audit trail).")
def rollback(name: str, reason: str | None) -> None:
    """Send all of deployment NAME's traffic back to its stable version and drop the candidate."""
    console.print(_describe(slipway().rollback(name, reason=reason)))


@click.command("status")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(name: str, as_json: bool) -> None:
    """Show deployment NAME: slots, policy, traffic and the current canary analysis."""
    data = slipway().status(name)
    if as_json:
        print_json(data)
        return
    traffic = data["traffic"]
    console.print(
        f"deployment {data['name']}: {data['state']} ({data['policy'].get('strategy')}), "
        f"step {data['step']}, generation {data['generation']}, "
        f"{traffic['candidate_percent']:g}% to candidate, {traffic['mirror_percent']:g}% mirrored"
    )
    rows = [(slot, f"{s['model']}:{s['version']}", s["digest"][:12]) for slot, s in data["slots"].items()]
    print_table(None, ["slot", "version", "digest"], rows)
    shadow = data.get("shadow")
    if shadow:
        agreement = "-" if shadow["agreement"] is None else f"{shadow['agreement']:.1%}"
        console.print(
            f"shadow: {shadow['copies']} copies, {shadow['candidate_errors']} failed, agreement {agreement}, "
            f"mean |delta| {shadow['mean_abs_delta']}, candidate p95 {shadow['candidate_p95_ms']} ms"
        )
    analysis = data.get("analysis")
    if analysis:
        console.print(f"analysis: {analysis['decision']} — {'; '.join(analysis['reasons'])}")
        for check in analysis["checks"]:
            mark = {True: "pass", False: "FAIL", None: "wait"}[check["passed"]]
            console.print(f"  {mark:4}  {check['detail']}")


@click.group("ab")
def ab() -> None:
    """A/B tests: the statistical readout."""


@ab.command("report")
@click.argument("name")
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--power", type=float, default=0.8, show_default=True)
@click.option("--mde", type=float, help="Minimum detectable effect, absolute [10% of stable's mean].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(name: str, alpha: float, power: float, mde: float | None, as_json: bool) -> None:
    """The effect of deployment NAME's candidate on the posted outcomes, with CI and p-value."""
    result = slipway().ab_report(name, alpha=alpha, power=power, mde=mde)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(
        f"{result.kind} ({result.test}): stable {result.mean_stable:.4g} (n={result.n_stable}), "
        f"candidate {result.mean_candidate:.4g} (n={result.n_candidate})"
    )
    console.print(
        f"effect {result.effect:+.4g}, "
        f"{result.confidence:.0%} CI [{result.ci_low:+.4g}, {result.ci_high:+.4g}], "
        f"p={result.p_value:.3g} -> {'significant' if result.significant else 'not significant'}"
    )
    console.print(
        f"to detect {result.mde:.4g} at power {result.power:g}: {result.n_per_arm_needed:,} per arm, "
        f"{result.n_more_needed:,} more needed"
    )


def install(cli: click.Group) -> None:
    for command in (deploy, rollout, rollback, status, ab):
        cli.add_command(command)
