"""``slipway validate``: run the gate, print the verdict table, write the reports; and its history."""

from __future__ import annotations

from pathlib import Path

import click

from slipway.cli.context import slipway
from slipway.cli.output import console, errors, print_json, print_table


@click.command("validate")
@click.argument("model_ref")
@click.option(
    "--plan", "plan", type=click.Path(path_type=Path), help="Plan file [the artifact's tests/plan.yaml]."
)
@click.option("--against", help="Alias of the version to compare with [the plan's, default champion].")
@click.option("--no-compare", is_flag=True, help="Do not compare with another version.")
@click.option(
    "--report-dir", type=click.Path(path_type=Path), help="Where to write the reports [HOME/reports/...]."
)
@click.option("--trust-pickle", is_flag=True, help="Accept a pickle model (runs code on load!).")
@click.option("--trust-type", "trust_types", multiple=True, help="Extra type a .skops file may hold.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print progress.")
def validate(
    model_ref: str,
    plan: Path | None,
    against: str | None,
    no_compare: bool,
    report_dir: Path | None,
    trust_pickle: bool,
    trust_types: tuple[str, ...],
    quiet: bool,
) -> None:
    """Run the validation gate on MODEL_REF (NAME:VERSION, NAME@ALIAS or an artifact folder).

    Writes report.json, junit.xml and report.html; exits 0 on pass and 7 on fail.
    """
    run = slipway().validate(
        model_ref,
        plan=plan,
        against=against,
        compare=not no_compare,
        report_dir=report_dir,
        trust_pickle=trust_pickle,
        trusted_types=trust_types,
        progress=None if quiet else (lambda text: errors.print(f"[dim]{text}[/]", markup=True)),
    )
    print_verdict(run)
    run.check()


def print_verdict(run: object) -> None:
    from slipway.validation.run import ValidationRun

    assert isinstance(run, ValidationRun)
    report = run.report
    counts = report.to_dict()["summary"]["expectations"]
    shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    colour = "green" if report.passed else "red"
    console.print(
        f"[bold {colour}]{report.verdict.upper()}[/]  {report.model.get('ref') or report.model['name']}  "
        f"{len(report.scenarios)} scenarios, {shown}  ({report.duration_s:.1f} s)",
        markup=True,
    )
    if report.comparison.get("champion"):
        console.print(f"compared with {report.comparison['champion']}")
    elif report.comparison.get("note"):
        console.print(f"comparison: {report.comparison['note']}")
    rows = [
        (
            f.scenario,
            f.check,
            f.metric,
            "n/a" if f.value is None else f"{f.value:.6g}",
            f"{f.op} {f.threshold:g}",
            f.message,
        )
        for f in report.failures
    ]
    rows += [("plan", "expectations", "-", "-", "-", message) for message in report.plan_failures]
    if rows:
        print_table(
            "failed expectations", ["scenario", "expectation", "metric", "value", "threshold", "why"], rows
        )
    warned = report.warnings
    if warned:
        print_table(
            "warnings",
            ["scenario", "expectation", "value", "status"],
            [(w.scenario, w.check, "n/a" if w.value is None else f"{w.value:.6g}", w.status) for w in warned],
        )
    for kind, path in run.reports.items():
        console.print(f"{kind:5} report: {path}")


@click.command("validations")
@click.argument("model_ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with the full results.")
def validations(model_ref: str, as_json: bool) -> None:
    """List the stored gate runs of version MODEL_REF (NAME:VERSION or NAME@ALIAS)."""
    runs = slipway().validation_runs(model_ref)
    if as_json:
        print_json([run.to_dict(with_results=True) for run in runs])
        return
    print_table(
        f"gate runs of {model_ref}",
        ["run", "verdict", "finished", "actor", "plan", "html report"],
        [
            (r.id, r.verdict, r.finished_at, r.actor, r.plan_digest[:12], r.reports.get("html", "-"))
            for r in runs
        ],
    )


def install(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(validations)
