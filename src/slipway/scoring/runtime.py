"""Model runtimes: what actually computes predictions from typed columns.

``NativeRuntime`` runs the artifact's own model (a DataFrame is built only here, because the
native flavors need one). A compiled runtime (ONNX, see ``slipway.runtimes``) implements
the same protocol and is used only after its parity with the native model was verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from slipway.core.model import ModelRunner
from slipway.scoring.schema import Columns


@dataclass(frozen=True, slots=True)
class Prediction:
    values: np.ndarray
    probabilities: np.ndarray | None = None


class Runtime(Protocol):
    name: str

    def predict(self, columns: Columns, features: tuple[str, ...]) -> Prediction: ...


def labels_from_probabilities(probabilities: np.ndarray, classes: tuple[Any, ...]) -> np.ndarray:
    labels: np.ndarray = np.asarray(classes)[probabilities.argmax(axis=1)]
    return labels


class NativeRuntime:
    """Runs a flavor's ModelRunner.

    A classifier is called once when its runner declares ``labels_follow_probabilities`` (its
    ``predict`` is the argmax of ``predict_proba``, as for scikit-learn's tree ensembles);
    otherwise both are called, because a tuned threshold or Platt scaling can make them differ.
    """

    name = "native"

    def __init__(self, runner: ModelRunner) -> None:
        self.runner = runner

    def predict(self, columns: Columns, features: tuple[str, ...]) -> Prediction:
        frame = pd.DataFrame({name: columns[name] for name in features}, copy=False)
        probabilities = self.runner.predict_proba(frame) if self.runner.classes is not None else None
        if probabilities is None or self.runner.classes is None:
            return Prediction(np.asarray(self.runner.predict(frame)))
        if getattr(self.runner, "labels_follow_probabilities", False):
            return Prediction(labels_from_probabilities(probabilities, self.runner.classes), probabilities)
        return Prediction(np.asarray(self.runner.predict(frame)), probabilities)
