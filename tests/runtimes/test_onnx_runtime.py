"""The compiled runtime in the one scoring path: same answers as native, class order, runtime choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from slipway.artifacts.loader import load_artifact
from slipway.core.errors import InvalidInputError
from slipway.runtimes.selection import compiled_runtime, select_runtime
from slipway.scoring.runtime import NativeRuntime
from slipway.scoring.scorer import Scorer


@pytest.fixture(scope="module")
def loaded_credit(compiled_credit):
    return load_artifact(compiled_credit.path)


@pytest.fixture(scope="module")
def loaded_apartments(compiled_apartments):
    return load_artifact(compiled_apartments.path)


def test_auto_chooses_the_verified_compiled_runtime(loaded_credit):
    assert select_runtime(loaded_credit).name == "onnx"
    assert select_runtime(loaded_credit, "compiled").name == "onnx"
    assert isinstance(select_runtime(loaded_credit, "native"), NativeRuntime)
    with pytest.raises(InvalidInputError, match="unknown runtime 'fast'; use auto, native, compiled"):
        select_runtime(loaded_credit, "fast")


def test_the_response_says_which_runtime_answered(loaded_credit, credit_data):
    rows = credit_data.holdout.head(3)
    assert Scorer(loaded_credit, runtime=compiled_runtime(loaded_credit)).score_frame(rows).runtime == "onnx"
    assert Scorer(loaded_credit).score_frame(rows).runtime == "native"


def test_the_classifier_answers_like_native_on_held_out_rows(loaded_credit, credit_data):
    rows = credit_data.holdout
    native = Scorer(loaded_credit).score_frame(rows)
    compiled = Scorer(loaded_credit, runtime=compiled_runtime(loaded_credit)).score_frame(rows)
    assert compiled.predictions.tolist() == native.predictions.tolist()
    np.testing.assert_allclose(compiled.probabilities, native.probabilities, rtol=1e-5, atol=1e-6)
    assert compiled.classes == native.classes == (0, 1)
    assert compiled.probabilities.dtype == np.float64


def test_the_regressor_answers_like_native_on_held_out_rows(loaded_apartments, apartments_data):
    rows = apartments_data.holdout
    native = Scorer(loaded_apartments).score_frame(rows)
    compiled = Scorer(loaded_apartments, runtime=compiled_runtime(loaded_apartments)).score_frame(rows)
    np.testing.assert_allclose(compiled.predictions, native.predictions, rtol=1e-5)
    assert compiled.predictions.dtype == np.float64


def test_one_row_at_a_time(loaded_credit, credit_data):
    scorer = Scorer(loaded_credit, runtime=compiled_runtime(loaded_credit))
    record = credit_data.holdout[list(scorer.input_columns)].iloc[0].to_dict()
    row = scorer.score_records([record]).row(0)
    assert set(row["probabilities"]) == {"0", "1"} and sum(row["probabilities"].values()) == pytest.approx(
        1.0
    )
    assert row["prediction"] in (0, 1)


def test_string_labels_come_back_in_the_artifacts_class_order(compiled_build):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=600), "z": rng.normal(size=600)})
    frame["kind"] = np.select([frame.x < -0.5, frame.x < 0.5], ["low", "mid"], "high").astype(object)
    model = LogisticRegression().fit(frame[["x", "z"]], frame["kind"])
    built = compiled_build(model, name="kinds", train=frame, target="kind", features=["x", "z"])
    artifact = load_artifact(built.path)
    assert artifact.classes == ("high", "low", "mid")
    compiled = Scorer(artifact, runtime=compiled_runtime(artifact)).score_frame(frame.head(50))
    native = Scorer(artifact).score_frame(frame.head(50))
    assert compiled.predictions.tolist() == native.predictions.tolist()
    assert set(compiled.predictions.tolist()) <= {"high", "low", "mid"}
    np.testing.assert_allclose(
        compiled.probabilities, model.predict_proba(frame[["x", "z"]].head(50)), rtol=1e-4, atol=1e-5
    )


def test_a_missing_category_is_fed_as_an_unknown_one(loaded_credit, credit_data):
    runtime = compiled_runtime(loaded_credit)
    columns = {name: credit_data.holdout[name].to_numpy()[:2] for name in loaded_credit.features}
    columns["employment"] = np.asarray([None, "employed"], dtype=object)
    feeds = runtime.feeds(columns, loaded_credit.features)
    assert feeds["employment"].tolist() == [[""], ["employed"]]
    assert feeds["age"].dtype == np.float32 and feeds["age"].shape == (2, 1)
    assert runtime.predict(columns, loaded_credit.features).probabilities.shape == (2, 2)
