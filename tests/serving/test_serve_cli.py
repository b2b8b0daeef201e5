"""`slipway serve` refuses bad arguments with one line and an exit code, before binding anything."""

from __future__ import annotations

import pytest

from slipway.cli.main import main
from slipway.serving.config import ServeConfig
from slipway.serving.runner import ServeSpec


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIPWAY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SLIPWAY_REGISTRY_URL", raising=False)
    monkeypatch.delenv("SLIPWAY_STORE_URL", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["serve", "nosuchmodel:1"], 3, "nosuchmodel"),
        (["serve", "credit", "--port", "70000"], 2, "70000"),
        (["serve", "credit", "--workers", "0"], 2, "0"),
        (["serve", "credit", "--max-batch-size", "0"], 2, "max-batch-size"),
        (["serve", "credit", "--score-in", "gpu"], 2, "gpu"),
    ],
    ids=["unknown-model", "port-range", "workers", "batch-size", "score-in"],
)
def test_bad_arguments_are_one_line_and_an_exit_code(home, capsys, args, code, words):
    assert main(args) == code
    _, err = capsys.readouterr()
    assert words in err and "Traceback" not in err


def test_a_bad_probe_record_is_refused(home, capsys, credit_served):
    assert main(["serve", str(credit_served.path), "--probe-record", "{not json"]) == 2
    assert "--probe-record" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_batch_size": 0}, "max_batch_size must be a whole number >= 1, got 0"),
        ({"queue_size": True}, "queue_size must be a whole number"),
        ({"max_wait_ms": -1}, "max_wait_ms must be a number >= 0, got -1"),
        ({"score_in": "gpu"}, "score_in must be auto, thread or loop, got 'gpu'"),
    ],
    ids=["batch", "bool", "wait", "score-in"],
)
def test_serve_config_names_the_bad_option(options, match):
    with pytest.raises(ValueError, match=match):
        ServeConfig(**options)


def test_worker_spec_round_trips_through_the_environment():
    spec = ServeSpec(ref="credit@champion", workers=2, guards=False, config=ServeConfig(max_batch_size=8))
    assert ServeSpec.from_env({"SLIPWAY_SERVE_SPEC": spec.to_env()}) == spec
    with pytest.raises(ValueError, match="SLIPWAY_SERVE_SPEC is not set"):
        ServeSpec.from_env({})
