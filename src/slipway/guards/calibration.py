"""Build-time conformal calibration with MAPIE (see ``slipway.guards.conformal`` for the method).

MAPIE is run over a scikit-learn view of the artifact's own ModelRunner, so every flavor works
and categorical columns need no encoding first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from slipway.core.errors import InvalidInputError
from slipway.core.model import ModelRunner
from slipway.guards.config import ConformalConfig
from slipway.guards.conformal import check_calibration_size


def fit_conformal(
    config: ConformalConfig,
    runner: ModelRunner,
    *,
    task: str,
    features: tuple[str, ...],
    target: str,
    calibration: pd.DataFrame,
) -> dict[str, Any]:
    calibration = calibration.dropna(subset=[target])
    check_calibration_size(len(calibration), config.coverage)
    conformal = mapie_conformalizer(
        runner, task=task, coverage=config.coverage, frame=calibration, features=features, target=target
    )
    scores = np.asarray(conformal.conformity_scores, dtype=np.float64).ravel()
    return {
        "policy": config.policy,
        "task": task,
        "coverage": config.coverage,
        "quantile": conformal_quantile(scores, config.coverage),
        "calibration_rows": len(scores),
        "max_width": config.max_width,
        "method": "absolute" if task == "regression" else "lac",
    }


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The split-conformal order statistic, computed as MAPIE does (ceil((n+1)(1-alpha))/n, lower)."""
    n = len(scores)
    return float(np.quantile(scores, math.ceil((n + 1) * coverage) / n, method="lower"))


def mapie_conformalizer(
    runner: ModelRunner,
    *,
    task: str,
    coverage: float,
    frame: pd.DataFrame,
    features: tuple[str, ...],
    target: str,
) -> Any:
    """MAPIE's split-conformal object, conformalized on ``frame`` over the artifact's runner."""
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor

    x, y = frame[list(features)], frame[target].to_numpy()
    if task == "regression":
        return SplitConformalRegressor(
            _Regressor(runner), confidence_level=coverage, prefit=True
        ).conformalize(x, y)
    return SplitConformalClassifier(
        _Classifier(runner), confidence_level=coverage, conformity_score="lac", prefit=True
    ).conformalize(x, y)


class _RunnerEstimator(BaseEstimator):  # type: ignore[misc]
    """A fitted scikit-learn-style view of a ModelRunner, for MAPIE's prefit mode.

    It has no ``n_features_in_``: MAPIE then skips its all-zeros probe, which fails on models
    fed named or categorical columns (FACTS.md).
    """

    def __init__(self, runner: ModelRunner) -> None:
        self.runner = runner
        self.is_fitted = True

    def fit(self, X: Any, y: Any) -> _RunnerEstimator:  # noqa: N803 - scikit-learn's signature
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803 - scikit-learn's signature
        return np.asarray(self.runner.predict(X))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"runner": self.runner}

    def set_params(self, **params: Any) -> _RunnerEstimator:
        self.runner = params.get("runner", self.runner)
        return self


class _Regressor(RegressorMixin, _RunnerEstimator):  # type: ignore[misc]
    _estimator_type = "regressor"


class _Classifier(ClassifierMixin, _RunnerEstimator):  # type: ignore[misc]
    _estimator_type = "classifier"

    def __init__(self, runner: ModelRunner) -> None:
        super().__init__(runner)
        self.classes_ = np.asarray(runner.classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803 - scikit-learn's signature
        probabilities = self.runner.predict_proba(X)
        if probabilities is None:
            raise InvalidInputError("conformal classification needs a model with predict_proba")
        return probabilities
