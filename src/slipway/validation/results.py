"""What a gate run found: expectation results, scenario results, and the report with its verdict.

``GateReport.to_dict()`` is the JSON report, the source of truth the other reports and the
registry record are made from. Statuses of an expectation:

- ``passed`` / ``failed``; ``warned`` is a failed ``severity: warn`` expectation (never blocks);
- ``insufficient_data``: a slice is smaller than ``slices.min_size``;
- ``not_computable``: the metric is undefined on these rows (e.g. ROC AUC with one class);
- ``skipped``: a comparison with no champion to compare with, said explicitly;
- ``not_applicable``: the scenario has no rows for this model (e.g. no text feature).

``insufficient_data`` and ``not_computable`` block like a failure: the gate never passes what it
could not check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal[
    "passed", "failed", "warned", "insufficient_data", "not_computable", "skipped", "not_applicable"
]
BLOCKING: tuple[Status, ...] = ("failed", "insufficient_data", "not_computable")
FORMAT = "slipway.validation/1"


@dataclass
class ExpectationResult:
    scenario: str
    check: str
    metric: str
    op: str
    threshold: float
    severity: str
    status: Status
    value: float | None = None
    interval: tuple[float, float] | None = None
    implicit: bool = False
    message: str = ""

    @property
    def id(self) -> str:
        return f"{self.scenario}::{self.check}"

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING and self.severity == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario,
            "check": self.check,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "severity": self.severity,
            "status": self.status,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "implicit": self.implicit,
            "message": self.message,
        }


@dataclass
class ScenarioResult:
    name: str
    kind: str
    purpose: str
    rows: int
    parent: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    expectations: list[ExpectationResult] = field(default_factory=list)
    #: Refusal and error messages with their counts, examples of bad rows, probe details.
    details: dict[str, Any] = field(default_factory=dict)
    not_applicable: str | None = None

    @property
    def passed(self) -> bool:
        return not any(e.blocking for e in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "purpose": self.purpose,
            "parent": self.parent,
            "rows": self.rows,
            "passed": self.passed,
            "not_applicable": self.not_applicable,
            "outcomes": self.outcomes,
            "metrics": self.metrics,
            "intervals": {name: list(ci) for name, ci in self.intervals.items()},
            "expectations": [e.to_dict() for e in self.expectations],
            "details": self.details,
        }


@dataclass
class GateReport:
    model: dict[str, Any]
    plan: dict[str, Any]
    environment: dict[str, Any]
    started_at: str
    finished_at: str
    duration_s: float
    scenarios: list[ScenarioResult]
    comparison: dict[str, Any]
    explanations: dict[str, Any] = field(default_factory=dict)
    computational: dict[str, Any] = field(default_factory=dict)
    #: Failures that belong to no scenario (a plan without expectations).
    plan_failures: list[str] = field(default_factory=list)

    @property
    def expectations(self) -> list[ExpectationResult]:
        return [e for s in self.scenarios for e in s.expectations]

    @property
    def failures(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if e.blocking]

    @property
    def warnings(self) -> list[ExpectationResult]:
        return [
            e for e in self.expectations if e.status == "warned" or (e.status in BLOCKING and not e.blocking)
        ]

    @property
    def passed(self) -> bool:
        return not self.failures and not self.plan_failures

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def scenario(self, name: str) -> ScenarioResult:
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for expectation in self.expectations:
            counts[expectation.status] = counts.get(expectation.status, 0) + 1
        return {
            "format": FORMAT,
            "verdict": self.verdict,
            "model": self.model,
            "plan": self.plan,
            "environment": self.environment,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 3),
            "summary": {"scenarios": len(self.scenarios), "expectations": counts},
            "failures": [e.to_dict() for e in self.failures]
            + [{"id": f"plan::{m}", "message": m} for m in self.plan_failures],
            "warnings": [e.to_dict() for e in self.warnings],
            "scenarios": [s.to_dict() for s in self.scenarios],
            "comparison": self.comparison,
            "explanations": self.explanations,
            "computational": self.computational,
        }
