"""Expectation expressions: ``metric op threshold``, with slice and comparison forms.

rmse <= 60000                       a metric of the scenario
recall[gender=F] >= 0.6             a metric on one slice
recall_gap[gender] <= 0.1           largest gap of a metric between the slices of a column
demographic_parity_difference[gender] <= 0.1
delta(accuracy) >= -0.01            challenger minus champion
ratio(latency_p95_ms) <= 1.2        challenger / champion
p_worse(accuracy) >= 0.05           one-sided p-value of "the challenger is worse"
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from slipway.validation.catalog import GAP_SUFFIX, MetricInfo, known_names, metric_info

Op = Literal[">=", "<=", ">", "<", "=="]
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
COMPARISONS = ("delta", "ratio", "p_worse")
_REF = re.compile(
    r"(?:(?P<func>[a-z_]+)\((?P<inner>[a-z0-9_]+)\)|(?P<name>[a-z0-9_]+))"
    r"(?:\[(?P<column>[^\]=]+?)(?:=(?P<value>[^\]]*))?\])?"
)
_CHECK = re.compile(r"\s*(?P<ref>.+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<threshold>\S+)\s*")


@dataclass(frozen=True, slots=True)
class MetricRef:
    """What an expectation measures: ``name``, optionally compared or on a slice."""

    name: str
    comparison: str | None = None
    column: str | None = None
    value: str | None = None

    @property
    def info(self) -> MetricInfo:
        found = metric_info(self.base_name)
        if found is None:  # parse_metric_ref only builds known references
            raise LookupError(self.base_name)
        return found

    @property
    def base_name(self) -> str:
        """The catalog metric behind the reference (``recall`` for ``recall_gap``)."""
        if self.is_gap:
            return self.name.removesuffix(GAP_SUFFIX)
        return self.name

    @property
    def is_gap(self) -> bool:
        return self.name.endswith(GAP_SUFFIX) and metric_info(self.name) is None

    @property
    def is_slice(self) -> bool:
        return self.column is not None

    def __str__(self) -> str:
        text = f"{self.comparison}({self.name})" if self.comparison else self.name
        if self.column is not None:
            text += f"[{self.column}" + (f"={self.value}" if self.value is not None else "") + "]"
        return text


def parse_metric_ref(text: str) -> MetricRef:
    """Parse a metric reference; ValueError naming the text (and a close known name) if unknown."""
    match = _REF.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"cannot read metric {text!r}: use e.g. 'rmse', 'recall[gender=F]' or 'delta(accuracy)'"
        )
    func, name = match["func"], match["inner"] or match["name"]
    column = match["column"].strip() if match["column"] else None
    value = match["value"].strip() if match["value"] is not None else None
    if func is not None and func not in COMPARISONS:
        raise ValueError(f"unknown comparison {func!r} in {text!r}; use {', '.join(COMPARISONS)}")
    ref = MetricRef(name, comparison=func, column=column, value=value)
    _check_known(ref, text)
    return ref


def _check_known(ref: MetricRef, text: str) -> None:
    info = metric_info(ref.base_name)
    if info is None:
        close = difflib.get_close_matches(ref.name, known_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; see the metric list in the docs"
        raise ValueError(f"unknown metric {ref.name!r}{hint}")
    if ref.is_gap and not info.is_quality:
        raise ValueError(f"{text!r}: a gap needs a quality metric (e.g. recall_gap), not {info.name!r}")
    if info.family == "fairness" and (ref.column is None or ref.value is not None):
        raise ValueError(f"{text!r}: a fairness metric needs a column, e.g. {info.name}[gender]")
    if ref.is_gap and (ref.column is None or ref.value is not None):
        raise ValueError(f"{text!r}: a gap needs a column, e.g. {ref.name}[gender]")
    if ref.column is not None and not (info.is_quality or info.family == "fairness"):
        raise ValueError(f"{text!r}: only quality and fairness metrics can be computed per slice")
    if ref.comparison is not None and ref.column is not None:
        raise ValueError(f"{text!r}: comparisons with the champion are not computed per slice")
    if ref.comparison is not None and info.family not in ("classification", "regression", "computational"):
        raise ValueError(f"{text!r}: only quality and computational metrics are compared with the champion")
    if ref.comparison == "p_worse" and not info.is_quality:
        raise ValueError(f"{text!r}: the paired test compares quality metrics (e.g. p_worse(accuracy))")


@dataclass(frozen=True, slots=True)
class Check:
    metric: MetricRef
    op: Op
    threshold: float

    def passes(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def parse_check(text: str) -> tuple[MetricRef, Op, str]:
    """Split ``metric op threshold``; the threshold is returned as text for the caller to type-check."""
    match = _CHECK.fullmatch(text)
    if match is None:
        raise ValueError(f"cannot read expectation {text!r}: use 'METRIC OP NUMBER', e.g. 'accuracy >= 0.8'")
    op: Op = match["op"]  # type: ignore[assignment]  # the regex admits only the five operators
    return parse_metric_ref(match["ref"]), op, match["threshold"]
