"""The self-contained HTML report: one file, plots embedded as SVG data URIs, no external URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slipway.validation.reports import plots

TEMPLATE = "report.html.j2"


def render_html(data: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["num"] = _number
    return environment.get_template(TEMPLATE).render(report=data, figures=figures(data))


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def figures(data: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Plots per scenario name, as (caption, data URI) pairs."""
    found: dict[str, list[tuple[str, str]]] = {}
    for scenario in data["scenarios"]:
        details = scenario["details"]
        shown: list[tuple[str, str]] = []
        for column, table in details.get("slices", {}).items():
            if table["metrics"]:
                shown.append((f"metrics by {column}, with bootstrap intervals", plots.slice_plot(table)))
        if details.get("calibration"):
            shown.append(("calibration", plots.calibration_plot(details["calibration"])))
        if details.get("latency_ms"):
            p95 = scenario["metrics"].get("latency_p95_ms")
            shown.append(("single-row latency", plots.latency_plot(details["latency_ms"], p95=p95)))
        if details.get("ranking"):
            value = next(key for key in details["ranking"][0] if key != "feature")
            shown.append(
                (
                    "stability ranking",
                    plots.ranking_plot(details["ranking"], value=value, title="most sensitive features"),
                )
            )
        comparison = details.get("comparison") or {}
        if comparison.get("metrics"):
            shown.append(("champion comparison", plots.comparison_plot(comparison["metrics"])))
        if shown:
            found[scenario["name"]] = shown
    importance = (data.get("explanations") or {}).get("permutation_importance")
    if importance:
        found["__explanations__"] = [
            (
                "permutation importance",
                plots.ranking_plot(importance, value="importance", title="permutation importance"),
            )
        ]
    return found
