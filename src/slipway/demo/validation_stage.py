"""Demo stage: give both examples a validation plan, run the gate, and let it decide the aliases."""

from __future__ import annotations

from typing import Any

from slipway.core.errors import ConflictError
from slipway.demo.context import DemoContext
from slipway.examples.plans import write_tests


def prepare_plans(ctx: DemoContext) -> None:
    ctx.heading("Validation plans (the artifacts' tests/ folders)")
    folders = {}
    for name in ("apartments", "credit"):
        folder = write_tests(name, ctx.data_dir / "tests" / name, base_case=ctx.state[f"{name}_holdout"])
        folders[name] = folder
        data = ", ".join(sorted(p.name for p in folder.glob("*.parquet")))
        ctx.console.print(f"{name}: {folder / 'plan.yaml'} with {data}")
    ctx.state["tests_dirs"] = folders


def validate_models(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("Validate: the gate decides which versions may become champion")
    rows: list[tuple[Any, ...]] = []
    for ref in ("apartments:1", "credit:1"):
        rows.append(_validate(ctx, ref))
    for name in ("apartments", "credit"):
        sw.set_alias(name, "champion", 1, reason="passed its gate")
    try:
        sw.set_alias("apartments", "production", 2)
    except ConflictError as refused:
        ctx.console.print(f"[yellow]refused:[/] {refused}", markup=True)
    rows.append(_validate(ctx, "apartments:2"))
    ctx.table(["version", "verdict", "scenarios", "checks", "failed", "seconds"], rows, title="gate verdicts")
    ctx.console.print("HTML reports (open in a browser):")
    for ref, path in ctx.state["gate_reports"].items():
        ctx.console.print(f"  {ref}: {path}")


def _validate(ctx: DemoContext, ref: str) -> tuple[Any, ...]:
    run = ctx.slipway.validate(ref)
    report = run.report
    ctx.state.setdefault("gate_reports", {})[ref] = run.reports["html"]
    compared = report.comparison.get("champion") or report.comparison.get("note") or "-"
    ctx.console.print(f"{ref}: {'pass' if run.passed else 'FAIL'}; comparison: {compared}")
    for line in run.failure_lines():
        ctx.console.print(f"  [red]failed[/] {line}", markup=True)
    verdict = "[green]PASS[/]" if run.passed else "[red]FAIL[/]"
    return (
        ref,
        verdict,
        len(report.scenarios),
        len(report.expectations),
        len(report.failures),
        f"{report.duration_s:.1f}",
    )
