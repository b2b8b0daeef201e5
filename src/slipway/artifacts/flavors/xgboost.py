"""XGBoost models (scikit-learn API), saved in XGBoost's native JSON format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.artifacts.flavors.base import SavedModel, class_labels
from slipway.core.errors import IntegrityError
from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions

_MODEL_FILE = "model/model.json"
_ESTIMATORS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")


class XGBoostRunner:
    def __init__(self, estimator: Any, classes: tuple[Any, ...] | None) -> None:
        self.estimator = estimator
        self.classes = classes

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray | None:
        if self.classes is None:
            return None
        return np.asarray(self.estimator.predict_proba(frame), dtype=np.float64)


class XGBoostFlavor:
    name = "xgboost"
    requirements: tuple[str, ...] = ("xgboost", "numpy", "scipy", "pandas")

    def accepts(self, model: object) -> bool:
        return any(
            cls.__module__.startswith("xgboost") and cls.__name__ == "XGBModel" for cls in type(model).__mro__
        )

    def save(self, model: Any, root: Path) -> SavedModel:
        target = root / _MODEL_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        model.save_model(str(target))
        classes = getattr(model, "classes_", None)
        return SavedModel(
            path=_MODEL_FILE,
            classes=class_labels(classes) if classes is not None else None,
            options={"estimator": type(model).__name__},
        )

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner:
        import xgboost

        estimator_name = section.options.get("estimator")
        if estimator_name not in _ESTIMATORS:
            raise IntegrityError(f"unknown XGBoost estimator {estimator_name!r} in manifest")
        estimator = getattr(xgboost, estimator_name)()
        try:
            estimator.load_model(str(root / section.path))
        except xgboost.core.XGBoostError as exc:
            raise IntegrityError(f"{section.path} is not a readable XGBoost model: {exc}") from exc
        return XGBoostRunner(estimator, section.classes)
