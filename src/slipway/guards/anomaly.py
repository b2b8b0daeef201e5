"""Multivariate anomaly detection: a Gaussian mixture on standardized numeric features.

Per-feature intervals miss rows whose values are each in range but whose combination was never
seen (trained on recent light cars and old heavy cars, a recent heavy car is new). A density
model catches those: scikit-learn's ``GaussianMixture`` is fitted at build time (the number of
components chosen by BIC), and its parameters are stored as plain numbers, so scoring is a few
numpy operations. The threshold on the negative log-density is the ``1 - false_alarm_rate``
quantile on held-out rows. IsolationForest was not used: it scores a value far outside the
training range as *less* anomalous than normal rows (FACTS.md), and cannot be applied as fast.
Missing values are replaced by the training mean (0 once standardized).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slipway.core.flags import Flag
from slipway.guards.config import AnomalyConfig, Policy
from slipway.guards.policy import row_action
from slipway.scoring.batch import Batch

GUARD = "anomaly"
MAX_FIT_ROWS = 20_000
_LOG_2PI = float(np.log(2 * np.pi))


def fit_anomaly(
    config: AnomalyConfig, train: pd.DataFrame, held_out: pd.DataFrame, features: tuple[str, ...]
) -> dict[str, Any]:
    from sklearn.mixture import GaussianMixture

    fit_rows = train[list(features)].to_numpy(dtype=np.float64)
    if len(fit_rows) > MAX_FIT_ROWS:
        fit_rows = fit_rows[np.random.default_rng(0).choice(len(fit_rows), MAX_FIT_ROWS, replace=False)]
    mean = np.nanmean(fit_rows, axis=0)
    scale = np.nanstd(fit_rows, axis=0)
    scale[~(scale > 0)] = 1.0
    standard = np.nan_to_num((fit_rows - mean) / scale)
    best: Any = None
    for components in range(1, min(config.max_components, len(standard)) + 1):
        model = GaussianMixture(components, covariance_type="full", reg_covar=1e-4, random_state=0)
        model.fit(standard)
        if best is None or model.bic(standard) < best.bic(standard):
            best = model
    fitted = {
        "policy": config.policy,
        "features": list(features),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": best.weights_.tolist(),
        "means": best.means_.tolist(),
        "precisions_cholesky": best.precisions_cholesky_.tolist(),
    }
    scores = AnomalyDetector(fitted).score(held_out[list(features)].to_numpy(dtype=np.float64))
    fitted["threshold"] = float(np.quantile(scores, 1 - config.false_alarm_rate))
    fitted["false_alarm_rate"] = config.false_alarm_rate
    fitted["held_out_rows"] = len(scores)
    return fitted


class AnomalyDetector:
    """The stored mixture, scored with numpy: higher is more anomalous (negative log-density)."""

    def __init__(self, fitted: dict[str, Any]) -> None:
        self.features: list[str] = fitted["features"]
        self.mean = np.asarray(fitted["mean"])
        self.scale = np.asarray(fitted["scale"])
        self.log_weights = np.log(np.asarray(fitted["weights"]))
        self.means = np.asarray(fitted["means"])
        self.chols = np.asarray(fitted["precisions_cholesky"])
        # log det of each precision Cholesky factor: the normalising constant of each component
        self.log_dets = np.log(np.diagonal(self.chols, axis1=1, axis2=2)).sum(axis=1)

    def score(self, rows: np.ndarray) -> np.ndarray:
        standard = np.nan_to_num((rows - self.mean) / self.scale)
        n_features = standard.shape[1]
        per_component = np.empty((standard.shape[0], len(self.log_weights)))
        for k in range(len(self.log_weights)):
            y = (standard - self.means[k]) @ self.chols[k]
            per_component[:, k] = -0.5 * (n_features * _LOG_2PI + np.einsum("ij,ij->i", y, y))
        per_component += self.log_dets + self.log_weights
        top = per_component.max(axis=1)
        log_density = top + np.log(np.exp(per_component - top[:, None]).sum(axis=1))
        result: np.ndarray = -log_density
        return result


class AnomalyGuard:
    """Input stage: flags rows whose feature combination is far less dense than the training data."""

    name = GUARD
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fitted: dict[str, Any]) -> None:
        self.policy: Policy = fitted["policy"]
        self.detector = AnomalyDetector(fitted)
        self.threshold = float(fitted["threshold"])

    def apply(self, batch: Batch) -> None:
        rows = np.column_stack([batch.columns[name].astype(np.float64) for name in self.detector.features])
        scores = self.detector.score(rows)
        anomalous = np.flatnonzero(scores > self.threshold)
        action = row_action(self.policy)
        threshold = round(self.threshold, 4)
        for row in anomalous.tolist():
            score = round(float(scores[row]), 4)
            batch.flag(
                row,
                Flag(
                    GUARD,
                    "unusual_combination",
                    f"this combination of {', '.join(self.detector.features)} is unlike the training "
                    f"data (score {score:g} > threshold {threshold:g})",
                    action=action,
                    detail={"score": score, "threshold": threshold},
                ),
            )
