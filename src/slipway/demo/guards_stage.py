"""Demo: the runtime guards fitted into the apartments artifact flag what the model should not be
trusted with; degraded mode is entered by hand and by a rule, then left, all on the record."""

from __future__ import annotations

from typing import Any

from slipway.demo.context import DemoContext
from slipway.examples import apartments
from slipway.guards.degraded import DegradationRule, degrade_when
from slipway.guards.step import describe_guards
from slipway.scoring.result import ScoredBatch

_NORMAL: dict[str, Any] = {
    "surface": 64.0,
    "rooms": 3,
    "floor": 4,
    "construction_year": 1998,
    "zip_code": "75004",
}
_DEPLOYMENT = apartments.NAME


def _describe(scored: ScoredBatch, row: int) -> str:
    flags = scored.flags[row]
    return "; ".join(f"{flag.guard}: {flag.message} ({flag.action})" for flag in flags) or "-"


def _price(scored: ScoredBatch, row: int) -> str:
    return "(rejected)" if scored.rejected[row] else f"{scored.predictions[row]:,.0f}"


def guarded_scoring(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("Runtime guards: domain, anomaly, conformal interval, output bounds")
    artifact = sw.load("apartments@champion")
    section = artifact.manifest.sections["guards"]
    ctx.console.print(f"fitted at build time into profile/guards/: {describe_guards(section)}")
    environ = {apartments.ZIP_DB_URL_ENV: ctx.state["zip_db_url"]}
    scorer = sw.scorer(artifact, environ=environ, deployment=_DEPLOYMENT)
    ctx.state["guarded_scorer"] = scorer
    requests = [
        _NORMAL,
        {**_NORMAL, "surface": 41.0, "rooms": 2, "construction_year": 2012},
        {**_NORMAL, "surface": 1_000_000.0},  # far outside the training range (max 150 m²)
        {**_NORMAL, "surface": 19.0, "rooms": 7},  # each value seen, never together
    ]
    scored = scorer.score_records(requests)
    labels = ["normal", "normal", "out of domain", "odd combination"]
    rows = [
        (
            labels[index],
            f"{request['surface']:g} m², {request['rooms']} rooms",
            _price(scored, index),
            "[" + ", ".join(f"{v:,.0f}" for v in scored.extras["interval"][index]) + "]",
            _describe(scored, index),
        )
        for index, request in enumerate(requests)
    ]
    ctx.table(
        ["row", "apartment", "price", "90% interval", "flags"], rows, title="guards on apartments@champion"
    )


def degraded_mode(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("Degraded mode: by hand, then by a rule; every response says so; audited")
    scorer = ctx.state["guarded_scorer"]
    sw.degrade(_DEPLOYMENT, "refuse", reason="zip price table is being reloaded")
    refused = sw.scorer(
        "apartments@champion",
        environ={apartments.ZIP_DB_URL_ENV: ctx.state["zip_db_url"]},
        deployment=_DEPLOYMENT,
    ).score_records([_NORMAL])
    ctx.console.print(
        f"refuse: degraded={refused.notes['degraded']['degraded']}, row: {_describe(refused, 0)}"
    )
    sw.restore(_DEPLOYMENT, reason="reload finished")
    rule = DegradationRule(guard="domain", share=0.2, window=50, mode="warn")
    odd = [{**_NORMAL, "surface": 400.0}] * 15 + [_NORMAL] * 35
    entered = degrade_when(rule, scorer.score_records(odd), registry=sw.registry, name=_DEPLOYMENT)
    if entered is not None:
        ctx.console.print(f"rule fired: {entered.mode} — {entered.reason}")
    listed = [(d.name, d.mode, d.reason) for d in sw.degradations()]
    ctx.table(["deployment", "mode", "reason"], listed, title="slipway degraded")
    sw.restore(_DEPLOYMENT, reason="surface units fixed upstream")
    events = [e for e in sw.audit_log(apartments.NAME) if e.action.startswith("deployment.")]
    ctx.table(
        ["seq", "action", "mode", "reason"],
        [
            (
                e.seq,
                e.action,
                (e.after or {}).get("mode") or (e.before or {}).get("mode"),
                (e.after or {}).get("reason"),
            )
            for e in events
        ],
        title=f"audit trail of deployment {_DEPLOYMENT}",
    )
