"""Metric values of one scenario, computed on demand, and the expectations judged against them.

``ScenarioMetrics`` knows a scenario's rows, its outcome and (when there is one) the champion's
outcome on the same rows; it computes a metric, a slice, a fairness metric or a comparison the
first time an expectation or the report asks, and keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.validation import bootstrap, fairness
from slipway.validation.catalog import metric_info
from slipway.validation.expressions import OPS, MetricRef
from slipway.validation.outcomes import ERROR, NAN, REFUSED, Outcome
from slipway.validation.plan import Plan
from slipway.validation.quality import Scored, Task, compute, default_metrics
from slipway.validation.results import ExpectationResult, Status

P_WORSE_ACCURACY = "accuracy"


@dataclass
class Champion:
    outcome: Outcome
    computational: dict[str, float] = field(default_factory=dict)


@dataclass
class ScenarioMetrics:
    name: str
    frame: pd.DataFrame
    outcome: Outcome
    task: Task
    plan: Plan
    target: str | None
    rng: np.random.Generator
    #: Values measured elsewhere (latency, stability, robustness, parity, mismatch), by name.
    measured: dict[str, float] = field(default_factory=dict)
    champion: Champion | None = None
    champion_note: str | None = None
    slices: dict[str, fairness.SliceTable] = field(default_factory=dict)
    _cache: dict[str, float] = field(default_factory=dict)
    _intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)

    # rows ----------------------------------------------------------------------------------

    def labelled(self, outcome: Outcome | None = None) -> np.ndarray:
        """Rows that were scored and have a target: what quality metrics are computed on."""
        outcome = outcome or self.outcome
        if self.target is None or self.target not in self.frame.columns:
            return np.zeros(len(self.frame), dtype=bool)
        return outcome.scored & self.frame[self.target].notna().to_numpy()

    def scored_rows(self, outcome: Outcome | None = None, rows: np.ndarray | None = None) -> Scored:
        outcome = outcome or self.outcome
        rows = self.labelled() if rows is None else rows
        truth = self.frame[self.target].to_numpy()[rows] if self.target else np.empty(0)
        if self.task.kind == "classification":
            truth = truth.astype(object)
        proba = outcome.probabilities[rows] if outcome.probabilities is not None else None
        return Scored(truth, outcome.predictions[rows], proba)

    @property
    def has_targets(self) -> bool:
        return bool(self.labelled().any())

    # values --------------------------------------------------------------------------------

    def health(self) -> dict[str, float]:
        outcome = self.outcome
        values = {
            "rows": float(len(outcome)),
            "refusal_rate": outcome.rate(REFUSED),
            "error_rate": outcome.rate(ERROR),
            "nan_rate": outcome.rate(NAN),
        }
        if outcome.flagged is not None and len(outcome):
            values["guard_flag_rate"] = float(np.mean(outcome.flagged))
        scored = outcome.predictions[outcome.scored]
        if self.task.kind == "classification" and outcome.probabilities is not None and scored.size:
            numbers = outcome.probabilities[outcome.scored][:, self.task.positive_index]
        else:
            numbers = pd.to_numeric(pd.Series(scored), errors="coerce").to_numpy(dtype=np.float64)
        if numbers.size:
            values.update(
                prediction_mean=float(np.nanmean(numbers)),
                prediction_min=float(np.nanmin(numbers)),
                prediction_max=float(np.nanmax(numbers)),
            )
        return values

    def quality(self, name: str) -> float:
        if name not in self._cache:
            self._cache[name] = compute(name, self.scored_rows(), self.task) if self.has_targets else math.nan
        return self._cache[name]

    def report_metrics(self) -> dict[str, float]:
        values = {**self.health(), **self.measured}
        if self.has_targets:
            for name in default_metrics(self.task):
                values[name] = self.quality(name)
        return values

    def interval(self, name: str) -> tuple[float, float] | None:
        if name not in self._intervals:
            scored = self.scored_rows()
            settings = self.plan.bootstrap
            self._intervals[name] = bootstrap.interval(
                lambda rows: compute(name, scored.take(rows), self.task),
                len(scored),
                resamples=settings.resamples,
                confidence=settings.confidence,
                rng=self.rng,
            )
        return self._intervals[name]

    def intervals_found(self) -> dict[str, tuple[float, float]]:
        """The bootstrap intervals computed so far (for expectations with ``ci: true``)."""
        return {name: found for name, found in self._intervals.items() if found is not None}

    def slice_table(self, column: str, metrics: list[str]) -> fairness.SliceTable:
        table = self.slices.get(column)
        missing = [m for m in metrics if table is None or m not in table.values]
        if table is None or missing:
            rows = self.labelled()
            groups = fairness.slice_labels(self.frame[column], bins=self.plan.slices.bins)[rows]
            wanted = sorted(set(missing) | set(table.values if table else ()))
            table = fairness.slice_table(
                groups.reset_index(drop=True).rename(column),
                self.scored_rows(),
                self.task,
                wanted,
                min_size=self.plan.slices.min_size,
                resamples=min(self.plan.bootstrap.resamples, 200),
                confidence=self.plan.bootstrap.confidence,
                seed=self.plan.seed,
            )
            self.slices[column] = table
        return table

    def value(self, ref: MetricRef) -> tuple[float, str]:
        """The metric's value and, when it cannot be judged, why (empty string otherwise)."""
        info = ref.info
        if ref.comparison is not None:
            return self._compared(ref)
        if ref.column is not None:
            return self._sliced(ref)
        if info.is_quality:
            if not self.has_targets:
                return math.nan, "no scored rows with a target"
            return self.quality(ref.name), ""
        values = {**self.health(), **self.measured}
        if ref.name in values:
            return values[ref.name], ""
        return math.nan, f"{ref.name} was not measured for this scenario"

    def _sliced(self, ref: MetricRef) -> tuple[float, str]:
        assert ref.column is not None  # only called for slice references
        if not self.has_targets:
            return math.nan, "no scored rows with a target"
        metric = ref.base_name if ref.info.is_quality else "selection_rate"
        table = self.slice_table(ref.column, [metric])
        if ref.value is not None:
            size = table.sizes.get(ref.value, 0)
            if size < table.min_size:
                return (
                    math.nan,
                    f"insufficient data: slice {ref.column}={ref.value} has {size} rows "
                    f"(min {table.min_size})",
                )
            return table.values[metric][ref.value], ""
        if table.too_small:
            shown = ", ".join(f"{g} ({table.sizes[g]} rows)" for g in table.too_small)
            return math.nan, f"insufficient data: {ref.column} slices below {table.min_size} rows: {shown}"
        if ref.is_gap:
            return table.gap(metric), ""
        groups = fairness.slice_labels(self.frame[ref.column], bins=self.plan.slices.bins)[self.labelled()]
        return fairness.fairness_value(ref.name, groups, self.scored_rows(), self.task), ""

    def _compared(self, ref: MetricRef) -> tuple[float, str]:
        if self.champion is None:
            return math.nan, self.champion_note or "no champion to compare with"
        info = ref.info
        mine, theirs = self.pair(ref.name)
        if ref.comparison == "delta":
            return mine - theirs, ""
        if ref.comparison == "ratio":
            return (mine / theirs if theirs else math.nan), ""
        return self.p_worse(ref.name, higher_is_better=bool(info.higher_is_better)), ""

    def pair(self, name: str) -> tuple[float, float]:
        """The metric for the challenger and the champion, on the rows both scored."""
        info = metric_info(name)
        assert self.champion is not None  # callers check
        assert info is not None  # a catalog name
        if not info.is_quality:
            return self.measured.get(name, math.nan), self.champion.computational.get(name, math.nan)
        both = self.labelled() & self.labelled(self.champion.outcome)
        return (
            compute(name, self.scored_rows(rows=both), self.task),
            compute(name, self.scored_rows(self.champion.outcome, both), self.task),
        )

    def p_worse(self, name: str, *, higher_is_better: bool) -> float:
        assert self.champion is not None  # only called with a champion
        both = self.labelled() & self.labelled(self.champion.outcome)
        mine, theirs = self.scored_rows(rows=both), self.scored_rows(self.champion.outcome, both)
        if self.task.kind == "classification" and name == P_WORSE_ACCURACY:
            return bootstrap.mcnemar(theirs.y_pred == theirs.y_true, mine.y_pred == mine.y_true).p_worse

        def statistic(scored: Scored) -> Callable[[np.ndarray], float]:
            return lambda rows: compute(name, scored.take(rows), self.task)

        return bootstrap.paired_p_worse(
            statistic(mine),
            statistic(theirs),
            len(mine),
            higher_is_better=higher_is_better,
            resamples=self.plan.bootstrap.resamples,
            rng=self.rng,
        )


def judge(
    source: ScenarioMetrics | None,
    *,
    scenario: str,
    ref: MetricRef,
    check: str,
    op: str,
    threshold: float,
    severity: str,
    use_ci: bool,
    implicit: bool = False,
    value: tuple[float, str] | None = None,
    insufficient: str = "fail",
) -> ExpectationResult:
    """Judge one expectation; NaN values are never a pass."""
    number, why = (
        value if value is not None else (source.value(ref) if source else (math.nan, "not measured"))
    )
    interval = None
    status: Status
    if why.startswith("insufficient data"):
        status, severity = (
            "insufficient_data",
            "fail" if severity == "fail" and insufficient == "fail" else "warn",
        )
    elif ref.comparison is not None and source is not None and source.champion is None:
        status = "skipped"
    elif not math.isfinite(number):
        status, why = "not_computable", why or f"{ref} is undefined on these rows"
    else:
        passes = OPS[op](number, threshold)
        if (
            passes
            and use_ci
            and source is not None
            and ref.info.is_quality
            and ref.column is None
            and ref.comparison is None
        ):
            interval = source.interval(ref.name)
            if interval is None:
                status, why = "not_computable", "too few rows for a bootstrap interval"
                return _result(
                    scenario, check, ref, op, threshold, severity, status, number, None, implicit, why
                )
            bound = interval[0] if op in (">=", ">") else interval[1]
            passes = OPS[op](bound, threshold)
            if not passes:
                confidence = source.plan.bootstrap.confidence
                why = f"the {confidence:.0%} interval bound {bound:.6g} does not clear {threshold:g}"
        status = "passed" if passes else ("failed" if severity == "fail" else "warned")
    return _result(scenario, check, ref, op, threshold, severity, status, number, interval, implicit, why)


def _result(
    scenario: str,
    check: str,
    ref: MetricRef,
    op: str,
    threshold: float,
    severity: str,
    status: Status,
    number: float,
    interval: tuple[float, float] | None,
    implicit: bool,
    why: str,
) -> ExpectationResult:
    return ExpectationResult(
        scenario=scenario,
        check=check,
        metric=str(ref),
        op=op,
        threshold=threshold,
        severity=severity,
        status=status,
        value=number if math.isfinite(number) else None,
        interval=interval,
        implicit=implicit,
        message=why,
    )


def plain(values: dict[str, Any]) -> dict[str, float | None]:
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else None) for k, v in values.items()}
