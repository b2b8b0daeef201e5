"""A python-flavor model for release tests: a linear price with a planted defect of choice.

``error_rate`` of the calls raise, each call sleeps ``delay_ms``, and predictions are shifted by
``shift``; with all three at zero it is a healthy model.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np


class DefectModel:
    def __init__(
        self,
        intercept: float,
        slope: float,
        *,
        error_rate: float = 0.0,
        delay_ms: float = 0.0,
        shift: float = 0.0,
    ) -> None:
        self.intercept, self.slope = intercept, slope
        self.error_rate, self.delay_ms, self.shift = error_rate, delay_ms, shift
        self._random = random.Random()

    def predict(self, frame):
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        if self.error_rate and self._random.random() < self.error_rate:
            raise RuntimeError("planted defect: this call fails")
        return self.intercept + self.slope * np.asarray(frame.iloc[:, 0], dtype=float) + self.shift

    def save(self, path: Path) -> None:
        params = {
            "intercept": self.intercept,
            "slope": self.slope,
            "error_rate": self.error_rate,
            "delay_ms": self.delay_ms,
            "shift": self.shift,
        }
        (Path(path) / "params.json").write_text(json.dumps(params))

    @classmethod
    def load(cls, path: Path) -> DefectModel:
        params = json.loads((Path(path) / "params.json").read_text())
        return cls(
            params["intercept"],
            params["slope"],
            error_rate=params["error_rate"],
            delay_ms=params["delay_ms"],
            shift=params["shift"],
        )
