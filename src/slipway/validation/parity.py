"""Runtime parity: a compiled runtime must predict what the native model predicts.

Every scenario scored natively is scored again through the other runtime; rows whose outcome
differs (scored by one, refused or failed by the other), whose class differs, or whose value or
probabilities differ beyond ``rtol``/``atol`` are named in the report, and any such row fails the
gate as ``runtime_parity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from slipway.scoring.result import to_plain
from slipway.validation.outcomes import OUTCOMES, Outcome
from slipway.validation.plan import ParitySettings


@dataclass
class ParityResult:
    runtime: str
    mismatched: int
    max_abs_diff: float
    rows: list[dict[str, Any]] = field(default_factory=list)


def compare(
    native: Outcome, other: Outcome, *, runtime: str, task: str, settings: ParitySettings
) -> ParityResult:
    both = native.scored & other.scored
    differs = native.status != other.status
    diff = np.zeros(len(native))
    if task == "regression":
        a = native.predictions.astype(np.float64)
        b = other.predictions.astype(np.float64)
        diff[both] = np.abs(a[both] - b[both])
        differs |= both & ~np.isclose(a, b, rtol=settings.rtol, atol=settings.atol)
    else:
        differs |= both & (native.predictions != other.predictions)
        if native.probabilities is not None and other.probabilities is not None:
            gap = np.abs(native.probabilities - other.probabilities).max(axis=1, initial=0.0)
            diff[both] = gap[both]
            close = np.isclose(
                native.probabilities, other.probabilities, rtol=settings.rtol, atol=settings.atol
            )
            differs |= both & ~close.all(axis=1)
    rows = [
        {
            "row": int(row),
            "native": _shown(native, row),
            runtime: _shown(other, row),
            "abs_diff": float(diff[row]),
        }
        for row in np.flatnonzero(differs)[: settings.max_rows]
    ]
    return ParityResult(runtime, int(differs.sum()), float(diff.max(initial=0.0)), rows)


def _shown(outcome: Outcome, row: int) -> Any:
    status = OUTCOMES[int(outcome.status[row])]
    return to_plain(outcome.predictions[row]) if status == "scored" else status
