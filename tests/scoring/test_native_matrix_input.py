"""The native runtime gives a scikit-learn model a matrix instead of a DataFrame only after the
first batch showed identical outputs without warnings; anything else keeps the frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from slipway.artifacts.flavors.base import EstimatorRunner, class_labels
from slipway.scoring.runtime import NativeRuntime


def numbers(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"a": rng.normal(size=rows), "b": rng.normal(size=rows), "n": rng.integers(0, 5, rows)}
    )


def columns_of(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in frame.columns}


def runtime_for(model) -> NativeRuntime:
    classes = class_labels(model.classes_) if hasattr(model, "classes_") else None
    return NativeRuntime(EstimatorRunner(model, classes=classes))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_plain_estimator_takes_a_matrix_after_the_first_batch_with_the_same_outputs(kind):
    train = numbers(400, seed=1)
    target = (
        (train["a"] + train["n"] > 1).astype(int) if kind == "classifier" else train["a"] * 2 + train["n"]
    )
    model = (HistGradientBoostingClassifier if kind == "classifier" else HistGradientBoostingRegressor)(
        max_iter=20
    ).fit(train, target)
    runtime = runtime_for(model)
    features = tuple(train.columns)

    runtime.predict(columns_of(numbers(5, seed=2)), features)
    assert runtime._matrix_runner is not None, "identical outputs: the matrix is used from now on"

    later = numbers(50, seed=3)
    prediction = runtime.predict(columns_of(later), features)  # warnings are errors in this suite
    assert np.array_equal(prediction.values, model.predict(later))
    if kind == "classifier":
        assert np.array_equal(prediction.probabilities, model.predict_proba(later))
    assert hasattr(model, "feature_names_in_"), "the artifact's own model is not changed"


def test_a_pipeline_that_warns_or_selects_columns_by_name_keeps_the_frame():
    train = numbers(300, seed=4)
    target = (train["a"] > 0).astype(int)
    scaled = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(train, target)
    by_name = Pipeline(
        [
            ("columns", ColumnTransformer([("scale", StandardScaler(), ["a", "b"])])),
            ("model", LogisticRegression()),
        ]
    ).fit(train, target)
    for model in (scaled, by_name):
        runtime = runtime_for(model)
        first = runtime.predict(columns_of(train.head(5)), tuple(train.columns))
        assert runtime._matrix_runner is None
        assert np.array_equal(first.probabilities, model.predict_proba(train.head(5)))


def test_a_text_feature_keeps_the_frame_without_trying_a_matrix():
    train = numbers(200, seed=5).assign(city=lambda f: np.where(f["a"] > 0, "north", "south"))
    target = (train["city"] == "north").astype(int)
    model = Pipeline(
        [
            ("encode", ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")),
            ("model", LogisticRegression()),
        ]
    ).fit(train, target)
    runtime = runtime_for(model)
    runtime.predict(columns_of(train.head(5)), tuple(train.columns))
    assert runtime._matrix_runner is None
