"""The HTML report's plots, drawn with matplotlib and returned as ``data:image/svg+xml`` URIs.

No pyplot (no global state, no GUI backend): each plot is its own ``Figure``. Text is drawn as
paths, so the SVG needs no font and renders the same everywhere.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

_BLUE, _ORANGE, _GREY = "#1f6fb2", "#e07b00", "#888888"


def _uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height))
    axes = figure.add_subplot()
    axes.grid(axis="both", alpha=0.3)
    return figure, axes


def slice_plot(table: dict[str, Any]) -> str:
    """Per-slice metrics with their bootstrap intervals, one panel per metric."""
    metrics: dict[str, dict[str, float | None]] = table["metrics"]
    names = list(metrics)
    figure = Figure(figsize=(3.0 * max(len(names), 1), 3.0))
    for index, name in enumerate(names, start=1):
        axes = figure.add_subplot(1, len(names), index)
        groups = list(metrics[name])
        values = [float(v) if (v := metrics[name][g]) is not None else float("nan") for g in groups]
        intervals = table["intervals"].get(name, {})
        low = [v - intervals[g][0] if g in intervals else 0 for g, v in zip(groups, values, strict=True)]
        high = [intervals[g][1] - v if g in intervals else 0 for g, v in zip(groups, values, strict=True)]
        colors = [_ORANGE if g in table["insufficient"] else _BLUE for g in groups]
        axes.bar(range(len(groups)), values, yerr=[low, high], color=colors, capsize=4)
        axes.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize=8)
        axes.set_title(name, fontsize=9)
        axes.grid(axis="y", alpha=0.3)
    figure.suptitle(f"by {table['column']} (orange: fewer than {table['min_size']} rows)", fontsize=9)
    return _uri(figure)


def calibration_plot(bins: Sequence[Sequence[float]]) -> str:
    figure, axes = _figure(4.0, 3.6)
    axes.plot([0, 1], [0, 1], linestyle="--", color=_GREY, label="perfect")
    axes.plot([b[0] for b in bins], [b[1] for b in bins], marker="o", color=_BLUE, label="model")
    axes.set_xlabel("mean confidence")
    axes.set_ylabel("accuracy")
    axes.set_title("calibration (top label)")
    axes.legend(loc="upper left", fontsize=8)
    return _uri(figure)


def latency_plot(samples: Sequence[float], *, p95: float | None) -> str:
    figure, axes = _figure()
    axes.hist(samples, bins=40, color=_BLUE)
    if p95 is not None:
        axes.axvline(p95, color=_ORANGE, linestyle="--", label=f"p95 {p95:.3g} ms")
        axes.legend(fontsize=8)
    axes.set_xlabel("single-row latency (ms)")
    axes.set_ylabel("calls")
    axes.set_title(f"latency over {len(samples)} calls")
    return _uri(figure)


def ranking_plot(ranking: Sequence[dict[str, Any]], *, value: str, title: str) -> str:
    shown = list(ranking)[:15][::-1]
    figure, axes = _figure(6.0, 0.35 * len(shown) + 1.2)
    axes.barh([str(r["feature"]) for r in shown], [float(r[value]) for r in shown], color=_BLUE)
    axes.set_xlabel(value.replace("_", " "))
    axes.set_title(title)
    return _uri(figure)


def comparison_plot(metrics: dict[str, dict[str, float | None]]) -> str:
    names = [
        n for n, v in metrics.items() if v.get("champion") is not None and v.get("challenger") is not None
    ]
    figure, axes = _figure(max(4.0, 1.1 * len(names) + 1), 3.2)
    positions = range(len(names))
    axes.bar(
        [p - 0.2 for p in positions],
        [metrics[n]["champion"] for n in names],
        0.4,
        color=_GREY,
        label="champion",
    )
    axes.bar(
        [p + 0.2 for p in positions],
        [metrics[n]["challenger"] for n in names],
        0.4,
        color=_BLUE,
        label="challenger",
    )
    axes.set_xticks(list(positions), names, rotation=30, ha="right", fontsize=8)
    axes.set_title("champion vs challenger")
    axes.legend(fontsize=8)
    return _uri(figure)
