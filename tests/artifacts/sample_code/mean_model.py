"""A python-flavor model for tests: predicts the training mean of the target, shifted by a feature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class MeanModel:
    def __init__(self, mean: float, slope: float = 0.0) -> None:
        self.mean = mean
        self.slope = slope

    def predict(self, frame):
        return self.mean + self.slope * np.asarray(frame.iloc[:, 0], dtype=float)

    def save(self, path: Path) -> None:
        (Path(path) / "params.json").write_text(json.dumps({"mean": self.mean, "slope": self.slope}))

    @classmethod
    def load(cls, path: Path) -> MeanModel:
        values = json.loads((Path(path) / "params.json").read_text())
        return cls(values["mean"], values["slope"])
