"""What a model flavor is: how one kind of model is saved into an artifact and rebuilt from it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions


@dataclass(frozen=True, slots=True)
class SavedModel:
    """What ``Flavor.save`` wrote, relative to the artifact root."""

    path: str
    classes: tuple[Any, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    trusted_pickle: bool = False


class Flavor(Protocol):
    name: str
    #: Distributions the model needs at run time; recorded in the artifact's lock file.
    requirements: tuple[str, ...]

    def accepts(self, model: object) -> bool: ...

    def save(self, model: Any, root: Path) -> SavedModel:
        """Write the model under ``root / "model"``; the output must be byte-for-byte reproducible."""
        ...

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner: ...


def class_labels(values: Any) -> tuple[Any, ...]:
    """Class labels as plain Python values (numpy scalars do not survive JSON)."""
    return tuple(value.item() if hasattr(value, "item") else value for value in values)


# Classifiers whose ``predict`` is by construction the argmax of ``predict_proba``.
ARGMAX_CLASSIFIERS = frozenset(
    {
        "HistGradientBoostingClassifier",
        "GradientBoostingClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
    }
)


def final_estimator(estimator: Any) -> Any:
    """The last step of a (nested) Pipeline, or the estimator itself."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


class EstimatorRunner:
    """Runs any object with scikit-learn's ``predict``/``predict_proba``/``classes_`` contract."""

    def __init__(self, estimator: Any, *, classes: tuple[Any, ...] | None = None) -> None:
        self.estimator = estimator
        last = final_estimator(estimator)
        self.labels_follow_probabilities = (
            type(last).__module__.startswith("sklearn.") and type(last).__name__ in ARGMAX_CLASSIFIERS
        )
        found = getattr(estimator, "classes_", None)
        self.classes = (
            classes if classes is not None else (class_labels(found) if found is not None else None)
        )

    def predict(self, frame: pd.DataFrame | np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(frame))

    def predict_proba(self, frame: pd.DataFrame | np.ndarray) -> np.ndarray | None:
        if self.classes is None or not hasattr(self.estimator, "predict_proba"):
            return None
        return np.asarray(self.estimator.predict_proba(frame), dtype=np.float64)

    def for_matrix(self) -> EstimatorRunner:
        """The same fitted model, to be given the features as one matrix (in feature order).

        A shallow copy without the column names it was fitted with, which scikit-learn would
        otherwise compare with the input's, and warn about, on every call. Whether the matrix
        gives the frame's outputs is checked by the caller (``NativeRuntime``).
        """
        model = copy.copy(self.estimator)
        if "feature_names_in_" in vars(model):
            del model.feature_names_in_
        return EstimatorRunner(model, classes=self.classes)
