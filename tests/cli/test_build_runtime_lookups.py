"""``slipway build`` with lookups and the compiled runtime, and ``slipway show`` reporting them."""

from __future__ import annotations

import json

import pytest
import skops.io as sio
import yaml

from slipway.cli.main import main
from slipway.examples import apartments
from support.cli_env import isolated_home


@pytest.fixture
def home(tmp_path, monkeypatch):
    return isolated_home(tmp_path, monkeypatch, columns=250)


@pytest.fixture
def apartments_files(home, apartments_model, apartments_data):
    model_file = home / "apartments.skops"
    sio.dump(apartments_model, model_file)
    train = home / "train.parquet"
    apartments_data.train.to_parquet(train)
    lookups = home / "lookups.yaml"
    lookups.write_text(yaml.safe_dump({"lookups": [apartments.lookup()]}))
    return model_file, train, lookups


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def build_args(model_file, train, *extra):
    features = ",".join(apartments.FEATURES)
    model = [str(model_file), "--name", "apartments", "--features", features]
    return ["build", *model, "--train", str(train), "--target", "price", *extra]


def test_build_declares_lookups_compiles_and_show_reports_both(capsys, apartments_files):
    model_file, train, lookups = apartments_files
    code, out, err = run(capsys, *build_args(model_file, train, "--lookups", str(lookups), "--register"))
    assert code == 0, err
    assert "runtime onnx verified (skl2onnx" in out and "parity on 3000 train rows" in out
    code, out, _ = run(capsys, "show", "apartments:1")
    assert code == 0
    assert "runtime   onnx verified" in out
    assert "lookups   zip_prices: request sends zip_code; looked up: zip_avg_price_m2" in out
    code, out, _ = run(capsys, "show", "apartments:1", "--json")
    sections = json.loads(out)["manifest"]["sections"]
    assert sections["runtime"]["verified"] and sections["lookups"]["names"] == ["zip_prices"]


def test_no_compile_builds_a_native_only_artifact(capsys, apartments_files):
    model_file, train, _ = apartments_files
    code, out, err = run(capsys, *build_args(model_file, train, "--no-compile"))
    assert code == 0, err
    assert "runtime" not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("lookups: [", "is not valid YAML"),
        ("- name: zip_prices\n  keys: {zip_code: string}\n", "lookup 'zip_prices': values: Field required"),
    ],
    ids=["malformed", "incomplete"],
)
def test_a_bad_lookups_file_is_one_line_and_exit_2(capsys, apartments_files, content, message):
    model_file, train, lookups = apartments_files
    lookups.write_text(content)
    code, _, err = run(capsys, *build_args(model_file, train, "--lookups", str(lookups)))
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
