"""Runtime parity: a compiled runtime must predict what the native model predicts.

Every scenario scored natively is scored again through the other runtime. Two things must hold:

- the same rows are scored: a row the native model scores and the other runtime refuses or
  fails on (or the reverse) is a mismatch;
- on the rows both scored, values agree by ``slipway.runtimes.parity.check_parity``: identical
  labels and probabilities within ``atol + rtol * |native|`` (regressions on the scale of the
  outputs), with rows that differ only by float32 rounding at a split threshold tolerated up to
  ``near_threshold_share`` of the rows.

The report names the rows that differ (outcome differences, then check_parity's examples), by
their position in the scenario; any such row fails the gate as ``runtime_parity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.runtimes.parity import Tolerance, check_parity
from slipway.scoring.result import to_plain
from slipway.scoring.runtime import NativeRuntime, Runtime
from slipway.scoring.schema import enforce
from slipway.scoring.scorer import Scorer
from slipway.validation.outcomes import OUTCOMES, Outcome
from slipway.validation.plan import ParitySettings


@dataclass
class ParityResult:
    runtime: str
    mismatched: int
    max_abs_diff: float
    near_threshold: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


def compare(
    scorer: Scorer,
    frame: pd.DataFrame,
    native: Outcome,
    other: Outcome,
    runtime: Runtime,
    *,
    settings: ParitySettings,
) -> ParityResult:
    both = native.scored & other.scored
    status_rows = np.flatnonzero(native.status != other.status)
    rows = [
        {"row": int(row), "native": _shown(native, row), runtime.name: _shown(other, row), "abs_diff": None}
        for row in status_rows[: settings.max_rows]
    ]
    result = ParityResult(runtime.name, int(status_rows.size), 0.0, rows=rows)
    if not both.any():
        return result
    positions = np.flatnonzero(both)
    raw = {name: frame[name].to_numpy()[positions] for name in scorer.request_schema.names if name in frame}
    columns, _ = enforce(scorer.request_schema, raw, extra="ignore")
    report = check_parity(
        NativeRuntime(scorer.artifact.runner),
        runtime,
        columns,
        scorer.features,
        classification=scorer.artifact.task == "classification",
        tolerance=Tolerance(settings.rtol, settings.atol, settings.near_threshold_share),
        data="scenario",
    )
    result.max_abs_diff = report.max_abs_diff
    result.near_threshold = report.near_threshold_rows
    if not report.passed:
        unexplained = report.mismatching_rows - report.near_threshold_rows
        # Rows beyond the tolerance fail; near-threshold rows fail only when too many.
        result.mismatched += unexplained if unexplained else report.near_threshold_rows
        result.reason = report.reason
        for example in report.examples[: max(settings.max_rows - len(rows), 0)]:
            rows.append(
                {
                    "row": int(positions[example["row"]]),
                    "native": example["native"],
                    runtime.name: example["compiled"],
                    "abs_diff": None,
                }
            )
    return result


def _shown(outcome: Outcome, row: int) -> Any:
    status = OUTCOMES[int(outcome.status[row])]
    return to_plain(outcome.predictions[row]) if status == "scored" else status
