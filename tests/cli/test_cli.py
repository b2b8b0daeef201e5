"""The CLI end to end: real registry in a temporary home, errors as one line and an exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import skops.io as sio

from slipway.cli.main import main
from slipway.examples import credit
from support.cli_env import isolated_home


@pytest.fixture
def home(tmp_path, monkeypatch):
    return isolated_home(tmp_path, monkeypatch)


@pytest.fixture
def credit_files(home, credit_data, credit_model):
    model_file = home / "credit.skops"
    sio.dump(credit_model, model_file)
    train = home / "train.parquet"
    credit_data.train.to_parquet(train)
    return model_file, train


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_register_alias_and_audit(capsys, credit_files, home):
    model_file, train = credit_files
    code, out, err = run(
        capsys,
        "build",
        str(model_file),
        "--name",
        "credit",
        "--train",
        str(train),
        "--target",
        "default",
        "--exclude",
        "gender",
        "--register",
    )
    assert code == 0, err
    assert "registered credit:1" in out
    code, out, _ = run(capsys, "versions", "credit", "--json")
    assert code == 0 and json.loads(out)[0]["version"] == 1
    # champion and production need a passed gate (tests/validation); staging does not
    assert run(capsys, "alias", "set", "credit", "staging", "1", "--reason", "first")[0] == 0
    code, out, _ = run(capsys, "show", "credit@staging", "--json")
    shown = json.loads(out)
    assert shown["version"]["aliases"] == ["staging"]
    assert "gender" not in shown["manifest"]["model"]["features"]
    assert run(capsys, "tag", "credit:1", "team=risk")[0] == 0
    assert run(capsys, "verify", "credit:1")[0] == 0
    code, out, _ = run(capsys, "audit", "log", "credit", "--json")
    assert [event["action"] for event in json.loads(out)] == [
        "model.created",
        "version.registered",
        "alias.set",
        "tag.set",
    ]
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and out.startswith("ok  4 events")
    code, out, _ = run(capsys, "history", "credit@staging", "--at", "2000-01-01")
    assert code == 0 and "(not set)" in out
    code, out, _ = run(capsys, "models")
    assert code == 0 and "credit" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "nomodel:1"], 3, "unknown model 'nomodel'"),
        (["show", "a:b:c"], 2, "malformed model reference 'a:b:c'"),
        (["show", "../x"], 2, "malformed model reference '../x'"),
        (["show", ""], 2, "empty model reference"),
        (["history", "credit:1", "--at", "2026-01-01"], 2, "history needs NAME@ALIAS"),
        (["history", "credit@champion", "--at", "yesterday"], 2, "invalid time 'yesterday'"),
        (["build", "missing.skops", "--name", "m"], 3, "model file 'missing.skops' does not exist"),
        (["register", "/nonexistent/artifact"], 3, "artifact folder '/nonexistent/artifact' does not exist"),
        (["tag", "credit:1"], 2, "give at least one KEY=VALUE"),
    ],
    ids=[
        "unknown-model",
        "malformed-ref",
        "traversal-ref",
        "empty-ref",
        "history-version",
        "bad-time",
        "missing-model-file",
        "missing-artifact",
        "tag-nothing",
    ],
)
def test_user_mistakes_are_one_line_and_an_exit_code(capsys, home, args, code, message):
    result, _, err = run(capsys, *args)
    assert result == code
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_pickle_model_file_needs_trust(capsys, home, credit_model):
    import joblib

    joblib.dump(credit_model, home / "model.joblib")
    code, _, err = run(capsys, "build", str(home / "model.joblib"), "--name", "p")
    assert code == 5 and "pickle" in err and "--trust-pickle" in err


def test_an_unreachable_registry_is_one_clear_line(capsys, home):
    code, _, err = run(capsys, "--registry-url", "postgresql+psycopg://u:s3cret@127.0.0.1:1/x", "models")
    assert code == 6
    assert "s3cret" not in err and "SLIPWAY_REGISTRY_URL" in err


def test_the_installed_command_prints_no_traceback(home):
    result = subprocess.run(
        [sys.executable, "-m", "slipway.cli.main", "show", "nothing@here"], capture_output=True, text=True
    )
    assert result.returncode == 3
    assert result.stderr.startswith("error: unknown model 'nothing'") and "Traceback" not in result.stderr


def test_a_tampered_stored_artifact_fails_verify(capsys, credit_files, home):
    model_file, train = credit_files
    run(
        capsys,
        "build",
        str(model_file),
        "--name",
        "credit",
        "--train",
        str(train),
        "--target",
        "default",
        "--exclude",
        "gender",
        "--register",
    )
    stored = next((home / "home" / "artifacts").iterdir())
    card = stored / "docs" / "MODEL_CARD.md"
    card.write_text(card.read_text() + "edited\n")
    code, _, err = run(capsys, "verify", "credit:1")
    assert code == 5 and "docs/MODEL_CARD.md" in err


def test_models_of_the_example_list_features(credit_model):
    assert credit.FEATURES[0] == "age" and credit_model is not None
