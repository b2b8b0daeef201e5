"""The compile step: parity on real models, the reasons when there is no compiled runtime, and
integrity of the compiled file."""

from __future__ import annotations

import json
import sys

import lightgbm
import pytest
import xgboost
from sklearn.linear_model import LinearRegression

from slipway.artifacts.loader import load_artifact
from slipway.core.errors import IntegrityError, InvalidInputError
from slipway.examples import credit
from slipway.runtimes.compile import OnnxCompileStep
from slipway.runtimes.converters import CompilationError, convert
from slipway.runtimes.parity import Tolerance
from slipway.runtimes.section import ONNX_FILE, PARITY_FILE
from slipway.runtimes.selection import compiled_runtime, compiled_status, select_runtime

APARTMENT_FEATURES = ("surface", "rooms", "floor", "construction_year", "zip_avg_price_m2")
NUMERIC_FEATURES = ("age", "income", "debt_ratio", "credit_history_years", "late_payments")


def assert_verified(built, *, layout, rows, converter):
    section = built.manifest.sections["runtime"]
    assert section["verified"], section["reason"]
    assert section["compiled"]["layout"] == layout and section["compiled"]["converter"].startswith(converter)
    parity = section["parity"]
    assert parity["passed"] and parity["rows"] == rows and parity["mismatching_rows"] == 0
    assert parity["max_rel_diff"] < 1e-5
    assert built.manifest.has_file(ONNX_FILE) and built.manifest.has_file(PARITY_FILE)
    return parity


def test_the_apartments_regressor_compiles_with_parity(compiled_apartments, apartments_data):
    parity = assert_verified(
        compiled_apartments, layout="matrix", rows=len(apartments_data.validation), converter="skl2onnx"
    )
    assert parity["data"] == "validation" and parity["label_mismatches"] is None
    assert parity["atol"] > parity["tolerance"]["atol"], "regression tolerance is scaled to the outputs"


def test_the_credit_pipeline_with_categoricals_compiles_with_parity(compiled_credit, credit_data):
    parity = assert_verified(
        compiled_credit, layout="columns", rows=len(credit_data.validation), converter="skl2onnx"
    )
    assert parity["label_mismatches"] == 0
    stored = json.loads((compiled_credit.path / PARITY_FILE).read_text())
    assert stored["passed"] and stored["examples"] == []


MODELS = {
    "xgboost-binary": (
        lambda: xgboost.XGBClassifier(n_estimators=30, max_depth=4, n_jobs=1),
        "default",
        "classification",
    ),
    "xgboost-3-classes": (
        lambda: xgboost.XGBClassifier(n_estimators=30, max_depth=4, n_jobs=1),
        "risk_band",
        "classification",
    ),
    "xgboost-regressor": (
        lambda: xgboost.XGBRegressor(n_estimators=30, max_depth=4, n_jobs=1),
        "amount",
        "regression",
    ),
    "lightgbm-binary": (
        lambda: lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1),
        "default",
        "classification",
    ),
    "lightgbm-3-classes": (
        lambda: lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1),
        "risk_band",
        "classification",
    ),
    "lightgbm-regressor": (
        lambda: lightgbm.LGBMRegressor(n_estimators=30, verbose=-1, n_jobs=1),
        "amount",
        "regression",
    ),
}


@pytest.mark.parametrize("kind", list(MODELS), ids=list(MODELS))
def test_xgboost_and_lightgbm_models_compile_with_parity(kind, compiled_build, numeric_data):
    make, target, task = MODELS[kind]
    train, validation = numeric_data
    model = make().fit(train[list(NUMERIC_FEATURES)], train[target])
    built = compiled_build(
        model,
        name=kind,
        train=train,
        validation=validation,
        target=target,
        features=NUMERIC_FEATURES,
        task=task,
    )
    assert_verified(built, layout="matrix", rows=len(validation), converter="onnxmltools")
    scorer_runtime = select_runtime(load_artifact(built.path))
    assert scorer_runtime.name == "onnx"


def test_a_lightgbm_booster_compiles_too(compiled_build, numeric_data):
    train, validation = numeric_data
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1},
        lightgbm.Dataset(train[list(NUMERIC_FEATURES)], train["default"]),
        20,
    )
    built = compiled_build(
        booster,
        name="booster",
        train=train,
        validation=validation,
        target="default",
        features=NUMERIC_FEATURES,
        task="classification",
    )
    assert_verified(built, layout="matrix", rows=len(validation), converter="onnxmltools")


def test_a_model_without_converter_serves_natively_and_says_why(
    compiled_build, numeric_data, sample_code_dir
):
    sys.path.insert(0, str(sample_code_dir))
    try:
        from mean_model import MeanModel
    finally:
        sys.path.remove(str(sample_code_dir))
    train, validation = numeric_data
    built = compiled_build(
        MeanModel(2.0, 0.5),
        name="mean",
        train=train,
        validation=validation,
        target="amount",
        features=NUMERIC_FEATURES,
        code=[sample_code_dir / "mean_model.py"],
    )
    section = built.manifest.sections["runtime"]
    assert section == {
        "verified": False,
        "compiled": None,
        "parity": None,
        "parity_file": None,
        "reason": "no ONNX converter for mean_model.MeanModel; "
        "converters exist for scikit-learn, XGBoost and LightGBM models",
    }
    assert not any(entry.path.startswith("runtime/") for entry in built.manifest.files)
    artifact = load_artifact(built.path)
    assert compiled_runtime(artifact) is None and select_runtime(artifact, "auto").name == "native"
    with pytest.raises(
        InvalidInputError, match="has no verified compiled runtime: no ONNX converter for mean_model"
    ):
        select_runtime(artifact, "compiled")


def test_zero_tolerance_is_a_planted_parity_failure(compiled_build, apartments_model, apartments_data):
    """float32 ONNX cannot match float64 scikit-learn exactly: with no tolerance, parity fails."""
    built = compiled_build(
        apartments_model,
        name="apartments",
        train=apartments_data.train,
        validation=apartments_data.validation,
        target="price",
        features=("surface", "rooms", "floor", "construction_year", "zip_avg_price_m2"),
        step=OnnxCompileStep(tolerance=Tolerance(rtol=0, atol=0, near_threshold_share=0)),
    )
    section = built.manifest.sections["runtime"]
    assert not section["verified"] and section["compiled"] is None
    assert (
        section["reason"].startswith("parity failed: ")
        and "rows differ beyond the tolerance" in section["reason"]
    )
    assert not built.manifest.has_file(ONNX_FILE), "no compiled model without parity"
    report = json.loads((built.path / PARITY_FILE).read_text())
    assert report["mismatching_rows"] > 0 and len(report["examples"]) == 5
    assert {"row", "native", "compiled"} == set(report["examples"][0])
    assert select_runtime(load_artifact(built.path)).name == "native"


def test_a_converter_that_compiles_the_wrong_model_is_caught(compiled_build, credit_model, credit_data):
    """A conversion bug, planted: the converter returns the ONNX of another model."""
    other = credit.train(credit_data.train.assign(default=1 - credit_data.train["default"]), max_iter=10)

    def wrong_converter(model, **options):
        return convert(other, **options)

    built = compiled_build(
        credit_model,
        name="credit",
        train=credit_data.train,
        validation=credit_data.validation,
        target="default",
        exclude=["gender"],
        step=OnnxCompileStep(converter=wrong_converter),
    )
    section = built.manifest.sections["runtime"]
    assert not section["verified"] and section["parity"]["label_mismatches"] > 100
    assert compiled_status(load_artifact(built.path)).reason == section["reason"]


def test_a_tampered_onnx_file_is_refused(compiled_apartments, copy_artifact):
    copy = copy_artifact(compiled_apartments)
    onnx_file = copy / ONNX_FILE
    onnx_file.write_bytes(onnx_file.read_bytes()[:-1] + b"\x00")
    with pytest.raises(IntegrityError, match=r"runtime/model\.onnx' was modified"):
        load_artifact(copy)


def test_an_onnx_file_changed_after_load_is_refused_too(compiled_apartments, copy_artifact):
    copy = copy_artifact(compiled_apartments)
    artifact = load_artifact(copy)
    (copy / ONNX_FILE).write_bytes(b"not onnx")
    with pytest.raises(IntegrityError, match=r"runtime/model\.onnx' was modified"):
        compiled_runtime(artifact)


def test_compiling_is_deterministic(compiled_build, credit_model, credit_data, compiled_credit):
    again = compiled_build(
        credit_model,
        name="credit",
        train=credit_data.train,
        validation=credit_data.validation,
        target="default",
        exclude=["gender"],
    )
    assert again.digest == compiled_credit.digest


def test_without_data_there_is_no_parity_and_no_compiled_runtime(compiled_build, apartments_model):
    built = compiled_build(
        apartments_model,
        name="nodata",
        features=("surface", "rooms", "floor", "construction_year", "zip_avg_price_m2"),
    )
    assert (
        built.manifest.sections["runtime"]["reason"]
        == "no validation or training data to check the compiled model's parity on"
    )


def test_slipway_build_compiles_by_default_and_can_be_told_not_to(
    slipway_home, apartments_model, apartments_data, tmp_path
):
    options = {
        "name": "apartments",
        "train": apartments_data.train,
        "target": "price",
        "features": ("surface", "rooms", "floor", "construction_year", "zip_avg_price_m2"),
    }
    compiled = slipway_home.build(apartments_model, output=tmp_path / "a", **options)
    assert compiled.manifest.sections["runtime"]["verified"]
    assert compiled.manifest.sections["runtime"]["parity"]["data"] == "train", (
        "no validation data: checked on train"
    )
    plain = slipway_home.build(apartments_model, output=tmp_path / "b", compile=False, **options)
    assert "runtime" not in plain.manifest.sections
    assert (
        compiled_status(load_artifact(plain.path)).reason == "the artifact was built without the compile step"
    )


def test_without_a_profile_the_input_kinds_come_from_the_data(
    compiled_build, apartments_model, apartments_data
):
    built = compiled_build(
        apartments_model, name="noprofile", validation=apartments_data.validation, features=APARTMENT_FEATURES
    )
    assert "profile/profile.json" not in {entry.path for entry in built.manifest.files}
    assert built.manifest.sections["runtime"]["verified"]


def test_parity_data_without_a_feature_column_is_a_reason(compiled_build, apartments_model, apartments_data):
    built = compiled_build(
        apartments_model,
        name="nocolumn",
        train=apartments_data.train,
        validation=apartments_data.validation.drop(columns=["floor"]),
        target="price",
        features=APARTMENT_FEATURES,
    )
    assert (
        built.manifest.sections["runtime"]["reason"]
        == "the validation data has no column 'floor' to check parity on"
    )


def test_a_converted_model_onnxruntime_refuses_is_a_reason(compiled_build, apartments_model, apartments_data):
    def broken_converter(model, **options):
        compiled = convert(model, **options)
        del compiled.model.graph.node[:]  # outputs no node produces
        return compiled

    built = compiled_build(
        apartments_model,
        name="broken",
        train=apartments_data.train,
        target="price",
        features=APARTMENT_FEATURES,
        step=OnnxCompileStep(converter=broken_converter),
    )
    assert built.manifest.sections["runtime"]["reason"].startswith(
        "onnxruntime cannot load the converted model"
    )
    assert not built.manifest.has_file(ONNX_FILE)


@pytest.mark.parametrize(
    ("model", "kinds", "reason"),
    [
        ("model.onnx", {"x": "number"}, "the model is already ONNX"),
        (LinearRegression(), {"x": "datetime"}, "feature 'x' is of kind 'datetime'"),
        (object(), {"x": "number"}, "no ONNX converter for builtins.object"),
    ],
    ids=["onnx", "datetime", "unknown"],
)
def test_models_without_a_conversion(model, kinds, reason):
    with pytest.raises(CompilationError, match=reason):
        convert(model, features=("x",), kinds=kinds, name="m")


def test_a_failing_converter_is_a_reason_not_a_crash():
    unfitted = LinearRegression()
    with pytest.raises(CompilationError, match="sklearn conversion failed: "):
        convert(unfitted, features=("x",), kinds={"x": "number"}, name="m")
