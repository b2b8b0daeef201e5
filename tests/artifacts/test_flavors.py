"""Every flavor round-trips: build, verify, load, and predict exactly like the original model."""

from __future__ import annotations

import numpy as np
import pytest

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import load_artifact
from slipway.core.model import TrustOptions
from slipway.examples import credit


def roundtrip(model, frame, tmp_path, *, target, features, **options):
    spec = BuildSpec(name="m", train=frame, target=target, features=features, **options)
    built = build_artifact(model, spec, output=tmp_path / "artifact")
    return built, load_artifact(built.path, trust=TrustOptions(pickle=options.get("trust_pickle", False)))


def test_sklearn_pipeline_with_column_transformer(tmp_path, credit_data):
    model = credit.train(credit_data.train, max_iter=20)
    built, loaded = roundtrip(
        model, credit_data.train, tmp_path, target=credit.TARGET, features=credit.FEATURES
    )
    sample = credit_data.holdout[list(credit.FEATURES)]
    assert built.manifest.model.flavor == "sklearn"
    assert loaded.classes == (0, 1) and loaded.task == "classification"
    np.testing.assert_array_equal(loaded.runner.predict(sample), model.predict(sample))
    np.testing.assert_array_equal(loaded.runner.predict_proba(sample), model.predict_proba(sample))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_xgboost_native_json(tmp_path, small_frame, kind):
    import xgboost

    features = ["x", "n"]
    if kind == "classifier":
        model = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(small_frame[features], small_frame.y)
        target = "y"
    else:
        model = xgboost.XGBRegressor(n_estimators=20, max_depth=3).fit(small_frame[features], small_frame.r)
        target = "r"
    built, loaded = roundtrip(model, small_frame, tmp_path, target=target, features=features)
    assert built.manifest.model.flavor == "xgboost" and built.manifest.model.path == "model/model.json"
    np.testing.assert_array_equal(
        loaded.runner.predict(small_frame[features]), model.predict(small_frame[features])
    )
    if kind == "classifier":
        np.testing.assert_allclose(
            loaded.runner.predict_proba(small_frame[features]), model.predict_proba(small_frame[features])
        )


def test_lightgbm_native_text(tmp_path, small_frame):
    import lightgbm

    features = ["x", "n"]
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(small_frame[features], small_frame.y)
    built, loaded = roundtrip(model, small_frame, tmp_path, target="y", features=features)
    assert built.manifest.model.flavor == "lightgbm" and loaded.classes == (0, 1)
    np.testing.assert_array_equal(
        loaded.runner.predict(small_frame[features]), model.predict(small_frame[features])
    )
    np.testing.assert_allclose(
        loaded.runner.predict_proba(small_frame[features]), model.predict_proba(small_frame[features])
    )


def test_lightgbm_booster_regression(tmp_path, small_frame):
    import lightgbm

    features = ["x", "n"]
    booster = lightgbm.train(
        {"objective": "regression", "verbose": -1}, lightgbm.Dataset(small_frame[features], small_frame.r), 20
    )
    _, loaded = roundtrip(booster, small_frame, tmp_path, target="r", features=features)
    assert loaded.task == "regression" and loaded.classes is None
    np.testing.assert_allclose(
        loaded.runner.predict(small_frame[features]), booster.predict(small_frame[features])
    )


def test_onnx_model(tmp_path, small_frame):
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    features = ["x", "n"]
    sk = LogisticRegression().fit(small_frame[features].to_numpy(np.float32), small_frame.y)
    proto = to_onnx(sk, small_frame[features].to_numpy(np.float32)[:1], options={"zipmap": False})
    built, loaded = roundtrip(
        proto, small_frame, tmp_path, target="y", features=features, classes=[0, 1], task="classification"
    )
    assert built.manifest.model.flavor == "onnx"
    X = small_frame[features]
    np.testing.assert_array_equal(loaded.runner.predict(X), sk.predict(X.to_numpy(np.float32)))
    np.testing.assert_allclose(
        loaded.runner.predict_proba(X), sk.predict_proba(X.to_numpy(np.float32)), atol=1e-6
    )


def test_python_class_rebuilt_from_files(tmp_path, small_frame, mean_model_class, sample_code):
    model = mean_model_class(3.0, 0.5)
    built, loaded = roundtrip(
        model, small_frame, tmp_path, target="r", features=["x"], code=[sample_code / "mean_model.py"]
    )
    assert built.manifest.model.flavor == "python"
    assert built.manifest.model.options["entry"] == "mean_model:MeanModel"
    assert built.manifest.has_file("code/mean_model.py") and built.manifest.has_file(
        "model/files/params.json"
    )
    np.testing.assert_allclose(loaded.runner.predict(small_frame[["x"]]), 3.0 + 0.5 * small_frame.x)


def test_two_artifacts_with_same_module_name_load_side_by_side(
    tmp_path, small_frame, mean_model_class, sample_code
):
    first = build_artifact(
        mean_model_class(1.0),
        BuildSpec(
            name="a", train=small_frame, target="r", features=["x"], code=[sample_code / "mean_model.py"]
        ),
        output=tmp_path / "a",
    )
    second = build_artifact(
        mean_model_class(2.0),
        BuildSpec(
            name="b", train=small_frame, target="r", features=["x"], code=[sample_code / "mean_model.py"]
        ),
        output=tmp_path / "b",
    )
    one, two = load_artifact(first.path), load_artifact(second.path)
    sample = small_frame[["x"]].head(2)
    assert list(one.runner.predict(sample)) == [1.0, 1.0]
    assert list(two.runner.predict(sample)) == [2.0, 2.0]
