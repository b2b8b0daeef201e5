from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SAMPLE_CODE = Path(__file__).parent / "sample_code"


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=200),
            "n": rng.integers(0, 5, 200),
            "c": rng.choice(np.array(["a", "b", "c"]), 200).astype(object),
        }
    )
    frame["y"] = (frame.x + 0.3 * frame.n > 0.5).astype(np.int64)
    frame["r"] = 2 * frame.x + frame.n + rng.normal(0, 0.1, 200)
    return frame


@pytest.fixture(scope="session")
def sample_code() -> Path:
    return SAMPLE_CODE


@pytest.fixture(scope="session")
def mean_model_class():
    sys.path.insert(0, str(SAMPLE_CODE))
    try:
        from mean_model import MeanModel
    finally:
        sys.path.remove(str(SAMPLE_CODE))
    return MeanModel
