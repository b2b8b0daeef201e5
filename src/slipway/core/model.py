"""The one contract every model flavor is rebuilt into: a runner that predicts on a DataFrame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@runtime_checkable
class ModelRunner(Protocol):
    """A loaded model, whatever its flavor.

    ``predict`` returns one value per row (class labels or regression outputs);
    ``predict_proba`` returns an (n_rows, n_classes) array in the order of ``classes`` for
    classifiers, and None for models that have no probabilities.
    """

    classes: tuple[Any, ...] | None

    def predict(self, frame: pd.DataFrame) -> np.ndarray: ...

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray | None: ...


@dataclass(frozen=True, slots=True)
class TrustOptions:
    """What the caller explicitly accepts when loading an artifact.

    ``pickle``: allow pickle/joblib models (arbitrary code execution on load).
    ``skops_types``: extra fully qualified type names accepted in skops files, beyond slipway's
    own list. The list is decided here, by the caller, never read from the artifact.
    """

    pickle: bool = False
    skops_types: tuple[str, ...] = ()
