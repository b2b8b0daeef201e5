"""Robustness probe: a bounded black-box search for small input changes that flip a prediction.

For each of ``rows`` rows, ``budget`` candidates move every float feature (or every numeric
feature listed in the scenario's ``features``) by at most ``epsilon`` (relative; a relative
step of a year or a count is not small, so whole-number features join only when listed): half
are corners of that box (each feature at +ε or -ε, which is where a monotone model changes
most), half are uniform inside it. A classifier's row *flips* when any
candidate changes its class; a regression row when the output moves by more than
``threshold`` (relative). The report gives the flip rate and the smallest flips found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.core.profile import FeatureProfile
from slipway.scoring.result import to_plain
from slipway.scoring.scorer import Scorer
from slipway.validation.outcomes import score_outcomes

DEFAULT_ROWS = 200
DEFAULT_BUDGET = 20
DEFAULT_EPSILON = 0.05
DEFAULT_THRESHOLD = 0.1
MAX_EXAMPLES = 5


@dataclass
class RobustnessResult:
    rows: int
    queries: int
    metrics: dict[str, float]
    examples: list[dict[str, Any]] = field(default_factory=list)


def probe(
    scorer: Scorer,
    sample: pd.DataFrame,
    profiles: list[FeatureProfile],
    *,
    task: str,
    epsilon: float,
    budget: int,
    threshold: float,
    rng: np.random.Generator,
    explicit: bool = False,
) -> RobustnessResult:
    numeric = [f for f in profiles if (f.is_numeric if explicit else f.kind == "number")]
    n = len(sample)
    if not numeric or n == 0:
        return RobustnessResult(n, 0, {"flip_rate": 0.0})
    base = score_outcomes(scorer, sample)
    signs = rng.choice([-1.0, 1.0], size=(budget, n, len(numeric)))
    uniform = rng.uniform(-1.0, 1.0, size=(budget, n, len(numeric)))
    steps = np.where((np.arange(budget) % 2 == 0)[:, None, None], signs, uniform) * epsilon
    candidates = pd.concat([sample] * budget, ignore_index=True)
    for column, feature in enumerate(numeric):
        values = candidates[feature.name].astype(np.float64).to_numpy() * (
            1 + steps[:, :, column].reshape(-1)
        )
        candidates[feature.name] = np.round(values).astype(np.int64) if feature.kind == "integer" else values
    moved = score_outcomes(scorer, candidates)
    before = np.tile(base.predictions, budget)
    ok = moved.scored & np.tile(base.scored, budget)
    if task == "classification":
        flipped = ok & (moved.predictions != before)
    else:
        change = np.abs(moved.predictions.astype(np.float64) - before.astype(np.float64))
        flipped = ok & (change / np.maximum(np.abs(before.astype(np.float64)), 1e-12) > threshold)
    per_row = flipped.reshape(budget, n)
    size = np.abs(steps).max(axis=2)
    examples = _examples(sample, candidates, numeric, per_row, size, base.predictions, moved.predictions)
    return RobustnessResult(n, budget * n, {"flip_rate": float(per_row.any(axis=0).mean())}, examples)


def _examples(
    sample: pd.DataFrame,
    candidates: pd.DataFrame,
    numeric: list[FeatureProfile],
    per_row: np.ndarray,
    size: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
) -> list[dict[str, Any]]:
    n = len(sample)
    found = []
    for row in np.flatnonzero(per_row.any(axis=0)):
        tries = np.flatnonzero(per_row[:, row])
        best = int(tries[np.argmin(size[tries, row])])
        found.append((float(size[best, row]), int(row), best * n + int(row)))
    found.sort()
    return [
        {
            "row": row,
            "max_relative_change": round(change, 6),
            "before": {f.name: to_plain(sample[f.name].iloc[row]) for f in numeric},
            "after": {f.name: to_plain(candidates[f.name].iloc[index]) for f in numeric},
            "prediction_before": to_plain(before[row]),
            "prediction_after": to_plain(after[index]),
        }
        for change, row, index in found[:MAX_EXAMPLES]
    ]
