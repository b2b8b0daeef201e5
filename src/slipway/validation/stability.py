"""Stability: does a small change of one numeric feature change the prediction?

Each float feature is multiplied by ``1 ± relative``; features in ``absolute`` move by ``± delta``
(the way to probe whole-number features such as counts or years, for which 1% is not small);
with ``noise`` all float features also get Gaussian noise of that relative size at once. The
share of rows whose class changes (classification) or the relative output change (regression)
is measured, and features are ranked by how much they move the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.core.profile import FeatureProfile
from slipway.scoring.scorer import Scorer
from slipway.validation.outcomes import score_outcomes

DEFAULT_RELATIVE = 0.01
DEFAULT_ROWS = 1000
NOISE = "(noise on all float features)"


@dataclass
class Perturbation:
    name: str
    frame: pd.DataFrame


@dataclass
class StabilityResult:
    rows: int
    metrics: dict[str, float]
    ranking: list[dict[str, Any]] = field(default_factory=list)


def perturbations(
    sample: pd.DataFrame,
    profiles: list[FeatureProfile],
    *,
    relative: float,
    absolute: dict[str, float],
    noise: float,
    rng: np.random.Generator,
) -> list[Perturbation]:
    result: list[Perturbation] = []
    floats = [f for f in profiles if f.kind == "number"]
    for feature in profiles:
        steps: list[tuple[str, Any]] = []
        if feature.kind == "number" and relative > 0:
            steps += [("mul", 1 + relative), ("mul", 1 - relative)]
        if feature.name in absolute and feature.is_numeric:
            steps += [("add", absolute[feature.name]), ("add", -absolute[feature.name])]
        for how, amount in steps:
            frame = sample.copy()
            values = frame[feature.name].astype(np.float64)
            values = values * amount if how == "mul" else values + amount
            frame[feature.name] = np.round(values).astype(np.int64) if feature.kind == "integer" else values
            result.append(Perturbation(feature.name, frame))
    if noise > 0 and floats:
        frame = sample.copy()
        for feature in floats:
            values = frame[feature.name].astype(np.float64)
            frame[feature.name] = values * (1 + rng.normal(0, noise, len(frame)))
        result.append(Perturbation(NOISE, frame))
    return result


def measure(
    scorer: Scorer, sample: pd.DataFrame, probes: list[Perturbation], *, task: str
) -> StabilityResult:
    n = len(sample)
    base = score_outcomes(scorer, sample)
    if not probes or n == 0:
        return StabilityResult(n, {})
    combined = pd.concat([p.frame for p in probes], ignore_index=True)
    moved = score_outcomes(scorer, combined)
    changes = np.zeros((len(probes), n))
    for index in range(len(probes)):
        rows = slice(index * n, (index + 1) * n)
        ok = moved.scored[rows] & base.scored
        if task == "classification":
            changed = moved.predictions[rows] != base.predictions
            changes[index] = np.where(ok, changed, True)
        else:
            before = base.predictions.astype(np.float64)
            after = moved.predictions[rows].astype(np.float64)
            relative = np.abs(after - before) / np.maximum(np.abs(before), 1e-12)
            changes[index] = np.where(ok, relative, np.inf)
    by_feature: dict[str, np.ndarray] = {}
    for probe, row_changes in zip(probes, changes, strict=True):
        current = by_feature.get(probe.name)
        by_feature[probe.name] = row_changes if current is None else np.maximum(current, row_changes)
    worst = changes.max(axis=0)
    if task == "classification":
        metrics = {"changed_share": float(np.mean(worst > 0))}
        ranking: list[dict[str, Any]] = [
            {"feature": f, "changed_share": float(np.mean(v > 0))} for f, v in by_feature.items()
        ]
        ranking.sort(key=lambda r: -float(r["changed_share"]))
    else:
        metrics = {
            "relative_change_mean": float(np.mean(worst)),
            "relative_change_p95": float(np.percentile(worst, 95)),
            "relative_change_max": float(np.max(worst)),
        }
        ranking = [
            {
                "feature": f,
                "relative_change_mean": float(np.mean(v)),
                "relative_change_p95": float(np.percentile(v, 95)),
            }
            for f, v in by_feature.items()
        ]
        ranking.sort(key=lambda r: -float(r["relative_change_mean"]))
    return StabilityResult(n, metrics, ranking)
