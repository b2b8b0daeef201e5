"""A finished gate run as the API returns it: the report, where it was written, the registry record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slipway.core.errors import GateFailedError
from slipway.core.records import ValidationRunRecord
from slipway.validation.results import GateReport

MAX_LISTED = 10


@dataclass(frozen=True)
class ValidationRun:
    report: GateReport
    reports: dict[str, Path]
    #: The stored run, when a registered version was validated (None for an artifact folder).
    record: ValidationRunRecord | None = None

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def verdict(self) -> str:
        return self.report.verdict

    def failure_lines(self) -> list[str]:
        """``scenario::expectation: value (threshold)`` for each failure, as people read them."""
        lines = []
        for failure in self.report.failures:
            value = "n/a" if failure.value is None else f"{failure.value:.6g}"
            why = f" ({failure.message})" if failure.message else ""
            lines.append(
                f"{failure.id}: {failure.metric} = {value}, expected {failure.op} {failure.threshold:g}{why}"
            )
        lines.extend(f"plan: {message}" for message in self.report.plan_failures)
        return lines

    def check(self) -> None:
        """Raise GateFailedError naming the failed expectations unless the gate passed."""
        if self.passed:
            return
        lines = self.failure_lines()
        shown = "; ".join(lines[:MAX_LISTED]) + (
            f"; and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
        )
        where = self.reports.get("html")
        raise GateFailedError(
            f"{self.report.model.get('ref') or self.report.model['name']} failed its gate: {shown}"
            + (f"; see {where}" if where else "")
        )
