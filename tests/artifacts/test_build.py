"""Building: contents, determinism, immutability, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from sklearn.linear_model import LinearRegression

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.packing import pack_artifact, unpack_artifact
from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError


def test_the_artifact_holds_what_the_model_needs(apartments_artifact):
    root = apartments_artifact.path
    manifest = apartments_artifact.manifest
    assert manifest.model.task == "regression" and manifest.model.target == "price"
    profile = json.loads((root / "profile/profile.json").read_text())
    surface = next(f for f in profile["features"] if f["name"] == "surface")
    assert surface["kind"] == "number" and surface["minimum"] >= 18 and surface["maximum"] <= 150
    assert set(surface["quantiles"]) >= {"0.01", "0.5", "0.99"}
    assert profile["target"]["name"] == "price" and profile["target"]["kind"] == "number"
    data = json.loads((root / "data.json").read_text())
    assert data["train"]["rows"] == 3000 and len(data["train"]["sha256"]) == 64
    assert data["validation"]["rows"] == 1000 and "surface" in data["train"]["schema"]
    environment = json.loads((root / "environment/environment.json").read_text())
    assert environment["python"].startswith("3.") and "scikit-learn" in environment["packages"]
    lock = (root / "environment/requirements.lock").read_text().splitlines()
    assert any(line.startswith("scikit-learn==") for line in lock)
    card = (root / "docs/MODEL_CARD.md").read_text()
    assert "pricing-team@example.com" in card and "## Risk level\nmedium" in card
    assert json.loads((root / "params.json").read_text())["max_iter"] == 60


def test_credit_profile_records_categories_and_missing_rates(credit_artifact):
    profile = json.loads((credit_artifact.path / "profile/profile.json").read_text())
    by_name = {f["name"]: f for f in profile["features"]}
    assert "gender" not in by_name, "the sensitive attribute is not a feature"
    assert by_name["employment"]["kind"] == "category"
    assert {value for value, _ in by_name["employment"]["categories"]} == {
        "employed",
        "self_employed",
        "unemployed",
        "retired",
    }
    assert (
        by_name["credit_history_years"]["nullable"]
        and 0 < by_name["credit_history_years"]["missing_rate"] < 0.1
    )
    assert not by_name["income"]["nullable"]
    assert [value for value, _ in profile["target"]["classes"]] == [0, 1]


def test_an_unfilled_model_card_is_a_template(tmp_path, small_frame):
    model = LinearRegression().fit(small_frame[["x"]], small_frame.r)
    built = build_artifact(
        model, BuildSpec(name="m", train=small_frame, target="r", features=["x"]), output=tmp_path / "m"
    )
    card = (built.path / "docs/MODEL_CARD.md").read_text()
    for heading in ("## Purpose", "## Owner", "## Intended use", "## Limitations", "## Risk level"):
        assert heading in card
    assert "model owner fills this in" in card


BUILD_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from slipway.artifacts.builder import BuildSpec, build_artifact
    from slipway.examples import credit
    train, validation, _ = credit.split(credit.generate(800))
    model = credit.train(train, max_iter=15)
    spec = BuildSpec(name="credit", train=train, validation=validation, target="default", exclude=["gender"],
                     params={"seed": 1}, embed_data=True)
    print(build_artifact(model, spec, output=Path(sys.argv[1])).digest)
    """
)


def test_building_twice_from_the_same_inputs_gives_the_same_digest(tmp_path):
    """Two separate processes (different object ids, times and hash seeds) give one digest."""
    digests = {
        subprocess.run(
            [sys.executable, "-c", BUILD_SCRIPT, str(tmp_path / f"build{run}")],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": str(run), "PATH": ""},
        ).stdout.strip()
        for run in range(2)
    }
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_an_existing_output_folder_with_another_artifact_is_not_overwritten(tmp_path, small_frame):
    first = LinearRegression().fit(small_frame[["x"]], small_frame.r)
    second = LinearRegression().fit(small_frame[["n"]], small_frame.r)
    built = build_artifact(
        first, BuildSpec(name="m", train=small_frame, target="r", features=["x"]), output=tmp_path / "out"
    )
    again = build_artifact(
        first, BuildSpec(name="m", train=small_frame, target="r", features=["x"]), output=tmp_path / "out"
    )
    assert again.digest == built.digest
    with pytest.raises(ConflictError, match=r"holds a different artifact.*immutable"):
        build_artifact(
            second,
            BuildSpec(name="m", train=small_frame, target="r", features=["n"]),
            output=tmp_path / "out",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging folder is left behind"


def test_pack_and_unpack_round_trip_reproducibly(apartments_artifact, tmp_path):
    pack_artifact(apartments_artifact.path, tmp_path / "a.tar.gz")
    pack_artifact(apartments_artifact.path, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    manifest = unpack_artifact(tmp_path / "a.tar.gz", tmp_path / "unpacked")
    assert manifest.digest == apartments_artifact.digest


class NotAModel:
    pass


@pytest.mark.parametrize(
    ("model", "options", "error", "match"),
    [
        (NotAModel(), {}, InvalidInputError, r"unsupported model type .*NotAModel"),
        ("lr", {"features": ["x", "missing"]}, InvalidInputError, "training data has no column 'missing'"),
        ("lr", {"features": ["x", "r"]}, InvalidInputError, "target 'r' cannot also be a feature"),
        ("lr", {"features": ["x", "x"]}, InvalidInputError, "listed twice"),
        (
            "lr",
            {"code": ["/nonexistent/code.py"]},
            NotFoundError,
            "code path '/nonexistent/code.py' does not exist",
        ),
        (
            "lr",
            {"tests": "/nonexistent/tests"},
            NotFoundError,
            "tests folder '/nonexistent/tests' does not exist",
        ),
        ("lr", {"model_card": {"risk_level": "extreme"}}, InvalidInputError, "invalid risk_level 'extreme'"),
        ("lr", {"model_card": {"colour": "blue"}}, InvalidInputError, "unknown model card field 'colour'"),
        ("lr", {"flavor": "xgboost"}, InvalidInputError, "flavor 'xgboost' cannot save a LinearRegression"),
        ("lr", {"flavor": "tensorflow"}, InvalidInputError, "unknown model flavor 'tensorflow'"),
        ("lr", {"task": "ranking"}, InvalidInputError, "invalid task 'ranking'"),
        ("lr", {"name": "../evil"}, InvalidInputError, "invalid model name '../evil'"),
        (
            "lr",
            {"train": "/nonexistent.parquet"},
            NotFoundError,
            "training data file '/nonexistent.parquet' does not exist",
        ),
        (
            "lr",
            {"params": {"bad": object()}},
            InvalidInputError,
            "params.json: value is not JSON-serialisable",
        ),
    ],
    ids=[
        "unsupported-type",
        "unknown-feature",
        "target-as-feature",
        "duplicate-feature",
        "missing-code",
        "missing-tests",
        "bad-risk",
        "unknown-card-field",
        "wrong-flavor",
        "unknown-flavor",
        "bad-task",
        "unsafe-name",
        "missing-train",
        "bad-params",
    ],
)
def test_bad_build_input_is_refused_clearly_and_leaves_nothing(
    tmp_path, small_frame, model, options, error, match
):
    if model == "lr":
        model = LinearRegression().fit(small_frame[["x"]], small_frame.r)
    spec = {"name": "m", "train": small_frame, "target": "r", "features": ["x"], **options}
    with pytest.raises(error, match=match):
        build_artifact(model, BuildSpec(**spec), output=tmp_path / "out" / "m")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unreadable_training_file_is_a_clear_error(tmp_path, small_frame):
    broken = tmp_path / "train.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    model = LinearRegression().fit(small_frame[["x"]], small_frame.r)
    with pytest.raises(InvalidInputError, match="cannot read training data file"):
        build_artifact(
            model, BuildSpec(name="m", train=broken, target="r", features=["x"]), output=tmp_path / "m"
        )
