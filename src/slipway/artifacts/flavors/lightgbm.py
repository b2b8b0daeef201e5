"""LightGBM models (scikit-learn API or Booster), saved in LightGBM's native text format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.artifacts.flavors.base import SavedModel, class_labels
from slipway.core.errors import IntegrityError
from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions

_MODEL_FILE = "model/model.txt"


class LightGBMRunner:
    labels_follow_probabilities = True

    def __init__(self, booster: Any, classes: tuple[Any, ...] | None) -> None:
        self.booster = booster
        self.classes = classes

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        probabilities = self.predict_proba(frame)
        if probabilities is None:
            return np.asarray(self.booster.predict(frame), dtype=np.float64)
        labels: np.ndarray = np.asarray(self.classes)[probabilities.argmax(axis=1)]
        return labels

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray | None:
        if self.classes is None:
            return None
        raw = np.asarray(self.booster.predict(frame), dtype=np.float64)
        if raw.ndim == 1:  # binary objective: probability of the second class
            return np.column_stack([1.0 - raw, raw])
        return raw


class LightGBMFlavor:
    name = "lightgbm"
    requirements: tuple[str, ...] = ("lightgbm", "numpy", "scipy", "pandas")

    def accepts(self, model: object) -> bool:
        return any(
            cls.__module__.startswith("lightgbm") and cls.__name__ in {"LGBMModel", "Booster"}
            for cls in type(model).__mro__
        )

    def save(self, model: Any, root: Path) -> SavedModel:
        booster = getattr(model, "booster_", model)
        target = root / _MODEL_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        booster.save_model(str(target))
        classes = getattr(model, "classes_", None)
        if classes is None:
            classes = _booster_classes(booster)
        return SavedModel(path=_MODEL_FILE, classes=class_labels(classes) if classes is not None else None)

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner:
        import lightgbm

        try:
            booster = lightgbm.Booster(model_file=str(root / section.path))
        except lightgbm.basic.LightGBMError as exc:
            raise IntegrityError(f"{section.path} is not a readable LightGBM model: {exc}") from exc
        return LightGBMRunner(booster, section.classes)


def _booster_classes(booster: Any) -> tuple[int, ...] | None:
    """Class labels of a bare Booster, from its objective (LightGBM labels classes 0..k-1)."""
    objective = str(booster.dump_model(num_iteration=0).get("objective", ""))
    if objective.startswith(("binary", "cross_entropy")):
        return (0, 1)
    if objective.startswith("multiclass"):
        return tuple(range(booster.dump_model(num_iteration=0)["num_class"]))
    return None
