"""Explanations: permutation importance for every model; SHAP values when shap is installed.

Both call the model through the Scorer, so they explain what serving runs. SHAP is opt-in
(``explanations.shap: true``): its first use in a process compiles code with numba, which took
~15 s on a 2-core machine, more than the rest of a typical gate.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pandas as pd

from slipway.scoring.scorer import Scorer
from slipway.validation.catalog import metric_info
from slipway.validation.plan import ExplainSettings
from slipway.validation.quality import Scored, Task, compute

SHAP_ROWS = 20


class _ScorerEstimator:
    """scikit-learn's permutation_importance wants an estimator; this one predicts via the Scorer."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def fit(self, frame: pd.DataFrame, target: Any = None) -> _ScorerEstimator:
        return self  # already trained: permutation importance never refits

    def score_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        result = self.scorer.score_frame(frame)
        return np.asarray(result.predictions), result.probabilities


def permutation_importance(
    scorer: Scorer,
    frame: pd.DataFrame,
    target: np.ndarray,
    task: Task,
    *,
    metric: str,
    repeats: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Drop in ``metric`` when each feature is shuffled, largest first."""
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    sign = 1.0 if metric_info(metric) is not None and metric_info(metric).higher_is_better else -1.0  # type: ignore[union-attr]

    def score(estimator: _ScorerEstimator, rows: pd.DataFrame, truth: Any) -> float:
        predictions, probabilities = estimator.score_rows(rows)
        return sign * compute(metric, Scored(np.asarray(truth), predictions, probabilities), task)

    features = list(scorer.features)
    result = sk_permutation_importance(
        _ScorerEstimator(scorer), frame[features], target, scoring=score, n_repeats=repeats, random_state=seed
    )
    ranking = [
        {"feature": name, "importance": float(mean), "std": float(std)}
        for name, mean, std in zip(features, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(ranking, key=lambda item: -float(item["importance"]))


def shap_available() -> bool:
    return importlib.util.find_spec("shap") is not None


def shap_importance(scorer: Scorer, frame: pd.DataFrame, task: Task, *, seed: int) -> list[dict[str, Any]]:
    """Mean |SHAP value| per feature (permutation explainer), largest first.

    shap works on numeric arrays: text features are given as category codes and decoded before
    the Scorer sees them. The explained output is the positive class's probability for a
    classifier, the prediction for a regression.
    """
    import shap

    features = list(scorer.features)
    rows = frame[features].sample(n=min(SHAP_ROWS, len(frame)), random_state=seed).reset_index(drop=True)
    codes = {
        name: np.asarray(sorted(rows[name].dropna().astype(str).unique()), dtype=object)
        for name in features
        if not pd.api.types.is_numeric_dtype(rows[name])
    }
    encoded = rows.copy()
    for name, values in codes.items():
        encoded[name] = rows[name].astype(str).map({v: i for i, v in enumerate(values)}).astype(np.float64)
    encoded = encoded.astype(np.float64)

    def predict(array: np.ndarray) -> np.ndarray:
        decoded = pd.DataFrame(array, columns=features)
        for name in features:
            if name in codes:
                decoded[name] = codes[name][
                    np.clip(np.rint(decoded[name].to_numpy()), 0, len(codes[name]) - 1).astype(int)
                ]
            elif pd.api.types.is_integer_dtype(rows[name]):
                decoded[name] = np.rint(decoded[name]).astype(rows[name].dtype)
        result = scorer.score_frame(decoded)
        if task.kind == "classification" and result.probabilities is not None:
            return np.asarray(result.probabilities[:, task.positive_index], dtype=np.float64)
        return np.asarray(result.predictions, dtype=np.float64)

    explainer = shap.explainers.Permutation(
        predict, shap.maskers.Independent(encoded, max_samples=len(encoded))
    )
    values = explainer(encoded.to_numpy(), max_evals=2 * len(features) + 1, silent=True).values
    ranking = [
        {"feature": name, "mean_abs_shap": float(v)}
        for name, v in zip(features, np.abs(values).mean(axis=0), strict=True)
    ]
    return sorted(ranking, key=lambda item: -float(item["mean_abs_shap"]))


def importance_metric(task: Task) -> str:
    if task.kind == "regression":
        return "rmse"
    return "roc_auc" if task.binary else "accuracy"


def explain(
    scorer: Scorer, rows: pd.DataFrame, target: str, task: Task, settings: ExplainSettings, *, seed: int
) -> dict[str, Any]:
    """Permutation importance on up to ``settings.rows`` rows; SHAP too when asked and installed."""
    rows = rows.sample(n=min(settings.rows, len(rows)), random_state=seed).reset_index(drop=True)
    metric = importance_metric(task)
    found: dict[str, Any] = {
        "scenario": settings.scenario,
        "metric": metric,
        "permutation_importance": permutation_importance(
            scorer, rows, rows[target].to_numpy(), task, metric=metric, repeats=settings.repeats, seed=seed
        ),
    }
    if settings.shap:
        found["shap"] = (
            shap_importance(scorer, rows, task, seed=seed)
            if shap_available()
            else "shap is not installed (pip install 'slipway[explain]')"
        )
    return found
