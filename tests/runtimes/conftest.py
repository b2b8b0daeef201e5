"""Artifacts built with the ONNX compile step: both examples, and a small numeric dataset for the
XGBoost and LightGBM models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.examples import apartments, credit
from slipway.runtimes.compile import OnnxCompileStep

Build = Callable[..., BuiltArtifact]


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """Train and predict on one OpenMP thread: on a loaded 2-core machine, OpenMP threads spinning
    against each other made a 60-iteration HistGradientBoosting fit take 20 s instead of 1 s."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def compiled_build(tmp_path_factory) -> Build:
    """Build ``model`` with the compile step (``step`` to change its settings) into a fresh folder."""

    def build(model: Any, *, step: OnnxCompileStep | None = None, **spec: Any) -> BuiltArtifact:
        output = tmp_path_factory.mktemp("compiled") / spec["name"]
        return build_artifact(model, BuildSpec(**spec), output=output, steps=[step or OnnxCompileStep()])

    return build


@pytest.fixture(scope="session")
def compiled_apartments(compiled_build, apartments_model, apartments_data) -> BuiltArtifact:
    return compiled_build(
        apartments_model,
        name=apartments.NAME,
        train=apartments_data.train,
        validation=apartments_data.validation,
        target=apartments.TARGET,
        features=apartments.FEATURES,
    )


@pytest.fixture(scope="session")
def compiled_credit(compiled_build, credit_model, credit_data) -> BuiltArtifact:
    return compiled_build(
        credit_model,
        name=credit.NAME,
        train=credit_data.train,
        validation=credit_data.validation,
        target=credit.TARGET,
        exclude=[credit.SENSITIVE],
    )


@pytest.fixture(scope="session")
def numeric_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Credit's numeric features with a binary, a three-class and a numeric target (train, validation)."""
    frame = credit.generate(3_000, seed=5)
    features = frame[list(credit.NUMERIC)].copy()
    features["default"] = frame[credit.TARGET]
    features["risk_band"] = np.digitize(frame["debt_ratio"], [0.2, 0.4])
    features["amount"] = frame["loan_amount"] / 1000 + 3 * frame["debt_ratio"]
    return features.iloc[:2_000].reset_index(drop=True), features.iloc[2_000:].reset_index(drop=True)


@pytest.fixture(scope="session")
def sample_code_dir() -> Path:
    return Path(__file__).parents[1] / "artifacts" / "sample_code"
