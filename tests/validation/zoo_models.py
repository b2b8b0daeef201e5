"""Models with planted defects, for the gate's defect zoo (bundled into artifacts as python-flavor code).

Each wraps a healthy scikit-learn model, saved with skops (no pickle), and breaks it one way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_INNER = "inner.skops"


class _Wrapper:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        classes = getattr(inner, "classes_", None)
        if classes is not None:
            self.classes_ = classes

    def save(self, path: Path) -> None:
        import skops.io as sio

        sio.dump(self.inner, Path(path) / _INNER)

    @classmethod
    def load(cls, path: Path) -> Any:
        import skops.io as sio

        file = Path(path) / _INNER
        return cls(sio.load(file, trusted=sio.get_untrusted_types(file=file)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.inner.predict(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.inner.predict_proba(frame))


class SlowModel(_Wrapper):
    """Spends 250 ms in every call, as a model that fetches something remote per request."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        time.sleep(0.25)
        return super().predict(frame)


class NanOnMissing(_Wrapper):
    """Returns NaN probabilities (and no class) when the credit history is missing."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        proba = super().predict_proba(frame).astype(np.float64)
        proba[frame["credit_history_years"].isna().to_numpy()] = np.nan
        return proba

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        labels = super().predict(frame).astype(np.float64)
        labels[frame["credit_history_years"].isna().to_numpy()] = np.nan
        return labels


class ExactKeyCalibration(_Wrapper):
    """Corrects prices by a factor looked up by the exact zip price: any other value misses the
    table and gets the fallback factor, so a 1% change of that feature moves the price by 30%."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        price = super().predict(frame)
        on_key = np.isclose(frame["zip_avg_price_m2"].to_numpy() % 1.0, 0.0)
        return np.where(on_key, price, price * 1.3)


class SlightlyWorse(_Wrapper):
    """Flips the decision for about 2% of the applications (chosen by age and late payments)."""

    def _flipped(self, frame: pd.DataFrame) -> np.ndarray:
        key = frame["age"].to_numpy().astype(np.int64) * 7 + frame["late_payments"].to_numpy().astype(
            np.int64
        )
        return key % 50 == 0

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        proba = super().predict_proba(frame)
        flipped = self._flipped(frame)
        proba[flipped] = proba[flipped][:, ::-1]
        return proba

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_)[self.predict_proba(frame).argmax(axis=1)]
