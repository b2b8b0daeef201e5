"""``slipway score`` and ``slipway runs`` end to end: a summary, JSON, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slipway.cli.main import main


@pytest.fixture
def home(batch_home, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLIPWAY_HOME", str(batch_home.settings.home))
    monkeypatch.delenv("SLIPWAY_REGISTRY_URL", raising=False)
    monkeypatch.delenv("SLIPWAY_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return batch_home.settings.home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_prints_a_summary_and_runs_lists_the_run(
    home, credit_parquet: Path, tmp_path: Path, capsys
) -> None:
    code, out, err = run(
        capsys, "score", "credit:1", str(credit_parquet), str(tmp_path / "out"), "--workers", "0"
    )
    assert code == 0, err
    assert "scored 1,200 rows with credit:1" in out and f"output  {tmp_path / 'out'}" in out
    run_id = out.split("run     ")[1].split()[0]
    code, out, _ = run(capsys, "runs", "credit", "--json")
    assert code == 0
    assert json.loads(out)[0]["run_id"] == run_id
    code, out, _ = run(capsys, "runs", "credit")
    assert code == 0 and run_id[:12] in out and "completed" in out


def test_score_json_holds_the_record_and_the_outcome(
    home, credit_parquet: Path, tmp_path: Path, capsys
) -> None:
    code, out, _ = run(
        capsys,
        "score",
        "credit:1",
        str(credit_parquet),
        str(tmp_path / "out"),
        "--workers",
        "0",
        "--keep",
        "row_id",
        "--json",
    )
    summary = json.loads(out)
    assert code == 0
    assert (summary["status"], summary["rows_in"], summary["outcome"]["parts"]) == ("completed", 1200, 1)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("credit:7", "{input}", "{out}"), 3, "no version 7"),
        (("credit:1", "{tmp}/missing.parquet", "{out}"), 3, "missing.parquet' does not exist"),
        (
            ("credit:1", "{input}", "{out}", "--engine", "local", "--master", "local[2]"),
            2,
            "apply to the Spark engine",
        ),
        (("credit:1", "{input}", "{tmp}/no/such/folder/out"), 2, "does not exist; create it first"),
    ],
    ids=["unknown version", "missing input", "master without spark", "no output folder"],
)
def test_score_errors_are_one_line_with_an_exit_code(
    home, credit_parquet: Path, tmp_path: Path, capsys, args, code, message
) -> None:
    filled = [a.format(input=credit_parquet, out=tmp_path / "out", tmp=tmp_path) for a in args]
    got, _, err = run(capsys, "score", *filled, "--workers", "0")
    assert got == code
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()
