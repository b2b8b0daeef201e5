"""A model runner that deserialises the artifact's model only when something first asks for it.

Batch workers score with the artifact's verified compiled runtime (ONNX) when it has one; the
native model is then never called, yet deserialising it (importing scikit-learn and skops, then
rebuilding the estimator) took 4-10 s per Spark Python worker on this machine, more than scoring
a million rows. The model files are hashed against the manifest again right before they are
deserialised, so deferring the load does not widen the window for a changed file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from slipway.core.model import ModelRunner


class DeferredRunner:
    def __init__(self, load: Callable[[], ModelRunner], *, classes: tuple[Any, ...] | None) -> None:
        self.classes = classes
        self._load = load
        self._runner: ModelRunner | None = None

    @property
    def is_loaded(self) -> bool:
        return self._runner is not None

    def loaded(self) -> ModelRunner:
        """The real runner, deserialised on the first call."""
        if self._runner is None:
            self._runner = self._load()
        return self._runner

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.loaded().predict(frame)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray | None:
        return self.loaded().predict_proba(frame)

    def __getattr__(self, name: str) -> Any:
        # Flavor-specific attributes (``labels_follow_probabilities``, ``estimator``) of the real runner.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loaded(), name)
