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
from slipway.scoring.scorer import Phase

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
        log_weights = np.log(np.asarray(fitted["weights"]))
        means = np.asarray(fitted["means"])
        chols = np.asarray(fitted["precisions_cholesky"])
        self.components, self.dims = means.shape
        # (x - mu_k) @ P_k for every k at once: x @ [P_1 ... P_K] - [mu_1 @ P_1 ... mu_K @ P_K]
        self.weights = np.concatenate(list(chols), axis=1)
        self.offsets = np.concatenate([means[k] @ chols[k] for k in range(self.components)])
        # log det of each precision Cholesky factor (the normalising constant), with the weights
        log_dets = np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)
        self.constants = log_dets + log_weights - 0.5 * self.dims * _LOG_2PI

    def score(self, rows: np.ndarray) -> np.ndarray:
        standard = (rows - self.mean) / self.scale
        missing = np.isnan(standard)
        if missing.any():
            standard[missing] = 0.0
        # einsum, not @: a BLAS call on a thin matrix spins up threads that fight the model's
        projected = np.einsum("ij,jm->im", standard, self.weights) - self.offsets
        projected *= projected
        squared = projected.reshape(len(rows), self.components, self.dims).sum(axis=2)
        per_component = self.constants - 0.5 * squared
        top = per_component.max(axis=1)
        log_density = top + np.log(np.exp(per_component - top[:, None]).sum(axis=1))
        result: np.ndarray = -log_density
        return result


class AnomalyGuard:
    """Input stage: flags rows whose feature combination is far less dense than the training data."""

    name = GUARD
    phase: Phase = "input"
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
                    f"this combination of values is unlike the training data "
                    f"(score {score:g} > threshold {threshold:g})",
                    action=action,
                    detail={"score": score, "threshold": threshold},
                ),
            )
