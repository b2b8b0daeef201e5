"""Model runtimes: what actually computes predictions from typed columns.

``NativeRuntime`` runs the artifact's own model (a DataFrame is built only here, because the
native flavors need one). A compiled runtime (ONNX, see ``slipway.runtimes``) implements
the same protocol and is used only after its parity with the native model was verified.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from slipway.core.model import ModelRunner
from slipway.scoring.schema import Columns, feature_matrix


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

    A scikit-learn estimator fitted on a DataFrame checks the frame's column names and dtypes on
    every call: for one row of 30 numbers that doubled the cost of ``predict_proba`` (~1.3 ms
    against ~0.65 ms for the same values as a matrix), and building the frame cost another
    ~0.2 ms. So when every feature is numeric and the runner can take a matrix
    (``MatrixRunner``), the first batch is scored both ways, and the matrix is used from then on
    only if the outputs were identical and no warning was raised (a pipeline selecting columns
    by name fails or warns, and keeps the frame).
    """

    name = "native"

    def __init__(self, runner: ModelRunner) -> None:
        self.runner = runner
        self._matrix_runner: ModelRunner | None = None
        #: The runner whose matrix twin the next batch tries (once), if it has one.
        self._untried: MatrixRunner | None = runner if isinstance(runner, MatrixRunner) else None

    @property
    def takes_matrix(self) -> bool:
        """Whether the matrix twin was verified (on the first batch): only then is it used."""
        return self._matrix_runner is not None

    def predict_matrix(self, matrix: np.ndarray) -> Prediction:
        assert self._matrix_runner is not None, "only once takes_matrix"
        return _predict(self._matrix_runner, matrix)

    def predict(self, columns: Columns, features: tuple[str, ...]) -> Prediction:
        if self._matrix_runner is not None:
            return _predict(self._matrix_runner, feature_matrix(columns, features, np.float64))
        frame = pd.DataFrame({name: columns[name] for name in features}, copy=False)
        prediction = _predict(self.runner, frame)
        if self._untried is not None:
            source, self._untried = self._untried, None
            self._matrix_runner = _matrix_twin(source, columns, features, prediction)
        return prediction


def _matrix_twin(
    runner: MatrixRunner, columns: Columns, features: tuple[str, ...], expected: Prediction
) -> ModelRunner | None:
    """``runner``'s twin for matrix input, if it gives ``expected`` on this batch without warnings."""
    if not all(columns[name].dtype.kind in "biuf" for name in features):
        return None
    twin = runner.for_matrix()
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            got = _predict(twin, feature_matrix(columns, features, np.float64))
        except Exception:  # noqa: BLE001 - e.g. a pipeline selecting columns by name: keep the frame
            return None
    same_probabilities = (
        got.probabilities is expected.probabilities
        if got.probabilities is None or expected.probabilities is None
        else np.array_equal(got.probabilities, expected.probabilities)
    )
    same = np.array_equal(got.values, expected.values) and same_probabilities
    return twin if same and not raised else None


def _predict(runner: ModelRunner, data: Any) -> Prediction:
    probabilities = runner.predict_proba(data) if runner.classes is not None else None
    if probabilities is None or runner.classes is None:
        return Prediction(np.asarray(runner.predict(data)))
    if getattr(runner, "labels_follow_probabilities", False):
        return Prediction(labels_from_probabilities(probabilities, runner.classes), probabilities)
    return Prediction(np.asarray(runner.predict(data)), probabilities)


@runtime_checkable
class MatrixRuntime(Protocol):
    """A runtime that can also take every feature as one float matrix, in feature order.

    The scorer hands it the request's numbers directly while no stage would change the rows
    (``slipway.scoring.scorer.Passive``): no typed column is built. ``takes_matrix`` may
    change (the native runtime verifies its twin first).
    """

    @property
    def takes_matrix(self) -> bool: ...

    def predict_matrix(self, matrix: np.ndarray) -> Prediction: ...


@runtime_checkable
class MatrixRunner(Protocol):
    """A runner that can give a twin taking the features as one matrix, in feature order."""

    def for_matrix(self) -> ModelRunner: ...
