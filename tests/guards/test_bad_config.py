"""Bad guard configuration is a clear error at BUILD time, naming what is wrong, and leaves
nothing behind; through the Python API and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import skops.io as sio

from slipway.api import Slipway
from slipway.cli.main import main
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.examples import apartments, credit
from support.examples import ExampleData

CASES = [
    ({"domain": {"features": ["surfac"]}}, r"domain.features names 'surfac', which is not a feature"),
    ({"anomaly": {"features": ["zip_code"]}}, r"anomaly.features names 'zip_code', which is not a numeric"),
    ({"domain": {"intervals": {"nope": [0, 1]}}}, r"domain.intervals names 'nope'"),
    (
        {"conformal": {"coverage": 1.5}},
        r"conformal.coverage: coverage must be strictly between 0 and 1, got 1.5$",
    ),
    ({"conformal": {"coverage": 0}}, r"conformal.coverage: .*strictly between 0 and 1"),
    ({"fallback": {"rule": "cheap"}}, r"fallback.rule must be a number for a regression model, got 'cheap'"),
    ({"fallback": {"rule": 1.0, "model": "x.skops"}}, r"exactly one of rule .* or model"),
    ({"anomaly": {"policy": "clip"}}, r"anomaly.policy 'clip' has nothing to clip"),
    ({"domain": {"policy": "fallback"}}, r"domain.policy is 'fallback' but no fallback is configured"),
    (
        {"domain": {"policy": "ignore"}},
        r"domain.policy: Input should be 'flag', 'reject', 'clip' or 'fallback'",
    ),
    ({"anomaly": {"false_alarm_rate": 0}}, r"anomaly.false_alarm_rate: .*greater than 0"),
    ({"output": {"min_certainty": 0.7}}, r"min_certainty applies to classifiers"),
    ({"output": {"bounds": [10, 1]}}, r"output.bounds \[10.0, 1.0\]: low is above high"),
    ({"monitor": {}}, r"unknown section 'monitor'"),
    ({"domain": {"margin": -1}}, r"domain.margin: .*greater than or equal to 0"),
]


@pytest.mark.parametrize(("guards", "message"), CASES, ids=[message[:40] for _, message in CASES])
def test_bad_configuration_fails_the_build(
    slipway_home: Slipway,
    apartments_model: Any,
    apartments_data: ExampleData,
    tmp_path: Path,
    guards: Any,
    message: str,
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        slipway_home.build(
            apartments_model,
            name="apartments",
            output=tmp_path / "artifact",
            train=apartments_data.train,
            validation=apartments_data.validation,
            target=apartments.TARGET,
            features=apartments.FEATURES,
            guards=guards,
            compile=False,
        )
    assert list(tmp_path.iterdir()) == []  # no artifact, no staging folder left behind


def test_a_classifier_fallback_rule_must_be_one_of_its_classes(
    slipway_home: Slipway, credit_model: Any, credit_data: ExampleData, tmp_path: Path
) -> None:
    with pytest.raises(
        InvalidInputError, match=r"fallback.rule 'yes' is not a class of the model; classes: 0, 1"
    ):
        slipway_home.build(
            credit_model,
            name="credit",
            output=tmp_path / "artifact",
            train=credit_data.train,
            target=credit.TARGET,
            exclude=[credit.SENSITIVE],
            guards={"fallback": {"rule": "yes"}},
            compile=False,
        )


def test_guards_need_training_data(slipway_home: Slipway, credit_model: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="guards are fitted on the training data"):
        slipway_home.build(
            credit_model,
            name="credit",
            output=tmp_path / "a",
            features=credit.FEATURES,
            guards=True,
            compile=False,
        )
    built = slipway_home.build(
        credit_model, name="credit", output=tmp_path / "b", features=credit.FEATURES, compile=False
    )
    assert "guards" not in built.manifest.sections  # the defaults are skipped without data


def test_explicit_conformal_needs_validation_data(
    slipway_home: Slipway, credit_model: Any, credit_data: ExampleData, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="calibrated on validation data"):
        slipway_home.build(
            credit_model,
            name="credit",
            output=tmp_path / "artifact",
            train=credit_data.train,
            target=credit.TARGET,
            exclude=[credit.SENSITIVE],
            guards={"conformal": {"coverage": 0.8}},
            compile=False,
        )


def test_a_missing_guards_file_is_named(slipway_home: Slipway, credit_model: Any, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"guards file .*nope\.yaml' does not exist"):
        slipway_home.build(credit_model, name="credit", guards=tmp_path / "nope.yaml", compile=False)


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def credit_files(tmp_path: Path, credit_model: Any, credit_data: ExampleData) -> dict[str, Path]:
    model = tmp_path / "credit.skops"
    model.write_bytes(sio.dumps(credit_model))
    train, validation = tmp_path / "train.parquet", tmp_path / "validation.parquet"
    credit_data.train.to_parquet(train)
    credit_data.validation.to_parquet(validation)
    return {"model": model, "train": train, "validation": validation}


def cli_build(files: dict[str, Path], home: Path, *extra: str) -> int:
    return main(
        [
            "--home",
            str(home),
            "build",
            str(files["model"]),
            "--name",
            "credit",
            "--train",
            str(files["train"]),
            "--validation",
            str(files["validation"]),
            "--target",
            credit.TARGET,
            "--exclude",
            credit.SENSITIVE,
            "--no-compile",
            *extra,
        ]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "conformal:\n  coverage: 2\n",
            "guards: conformal.coverage: coverage must be strictly between 0 and 1, got 2",
        ),
        ("domain:\n  features: [salary]\n", "guards: domain.features names 'salary'"),
        ("fallback:\n  rule: maybe\n", "guards: fallback.rule 'maybe' is not a class of the model"),
        ("domain: [1, 2\n", "is not valid YAML/JSON"),
        ("- domain\n", "must hold a mapping of guard sections"),
    ],
    ids=["coverage", "unknown-feature", "fallback-type", "bad-yaml", "not-a-mapping"],
)
def test_cli_build_with_a_bad_guards_file_prints_one_line_and_fails(
    credit_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    guards = tmp_path / "guards.yaml"
    guards.write_text(text)

    code = cli_build(credit_files, tmp_path / "home", "--guards", str(guards))

    error = capsys.readouterr().err
    assert code != 0
    assert message in " ".join(error.split())
    assert "Traceback" not in error
    assert not (tmp_path / "home" / "builds").exists() or not any((tmp_path / "home" / "builds").iterdir())


def test_cli_build_fits_the_guards_of_the_file(
    credit_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guards = tmp_path / "guards.yaml"
    guards.write_text(
        "domain:\n  policy: reject\nanomaly: false\n"
        "output:\n  min_certainty: 0.6\nconformal:\n  coverage: 0.8\n"
    )

    assert cli_build(credit_files, tmp_path / "home", "--guards", str(guards)) == 0

    out = " ".join(capsys.readouterr().out.split())
    assert "guards domain (reject), conformal (flag), output (flag)" in out
    assert cli_build(credit_files, tmp_path / "home2", "--guards", "none") == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith("guards ")]


def test_cli_build_stores_a_fallback_model_named_in_the_guards_file(
    credit_files: dict[str, Path],
    credit_data: ExampleData,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    simple = credit.pipeline(max_iter=5).fit(
        credit_data.train[list(credit.FEATURES)], credit_data.train[credit.TARGET]
    )
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "fallback.skops").write_bytes(sio.dumps(simple))
    guards = folder / "guards.yaml"
    # the model file is named relative to the YAML file
    guards.write_text("anomaly:\n  policy: fallback\nfallback:\n  model: fallback.skops\n")

    assert cli_build(credit_files, tmp_path / "home", "--guards", str(guards), "-o", str(tmp_path / "a")) == 0

    assert "fallback model" in capsys.readouterr().out
    assert (tmp_path / "a" / "profile/guards/fallback/model/model.skops").is_file()
