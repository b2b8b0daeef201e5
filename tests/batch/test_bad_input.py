"""Acceptance: bad input gets a clear error naming what is wrong, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError


def nothing_written(tmp_path: Path) -> bool:
    return not any(path.name.startswith((".out", "out")) for path in tmp_path.iterdir())


@pytest.fixture
def inputs(tmp_path: Path, credit_rows: pd.DataFrame) -> dict[str, Path]:
    missing_column = tmp_path / "no-income.parquet"
    credit_rows.drop(columns=["income"]).to_parquet(missing_column)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet\n" * 100)
    garbage_csv = tmp_path / "garbage.csv"
    garbage_csv.write_bytes(bytes(range(256)) * 40)
    text = tmp_path / "rows.txt"
    text.write_text("age,income\n1,2\n")
    return {"missing column": missing_column, "garbage": garbage, "garbage csv": garbage_csv, "txt": text}


@pytest.mark.parametrize(
    ("model", "source", "error", "match"),
    [
        (
            "credit:1",
            "does-not-exist.parquet",
            NotFoundError,
            r"input '.*does-not-exist.parquet' does not exist",
        ),
        (
            "credit:1",
            "missing column",
            InvalidInputError,
            r"has no column 'income'; the model takes age, income",
        ),
        ("credit:1", "garbage", InvalidInputError, r"cannot read input '.*garbage.parquet'"),
        ("credit:1", "garbage csv", InvalidInputError, r"cannot read input '.*garbage.csv'"),
        ("credit:1", "txt", InvalidInputError, r"unsupported format \.txt"),
        ("credit:9", "credit", NotFoundError, r"credit.* no version 9|version 9"),
        ("nosuchmodel@champion", "credit", NotFoundError, r"nosuchmodel"),
        ("credit:x", "credit", InvalidInputError, r"malformed model reference 'credit:x'"),
    ],
    ids=[
        "missing path",
        "missing column",
        "unreadable parquet",
        "unreadable csv",
        "unknown format",
        "unknown version",
        "unknown model",
        "malformed ref",
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    batch_home, inputs, credit_parquet: Path, tmp_path: Path, model, source, error, match
) -> None:
    path = credit_parquet if source == "credit" else inputs.get(source, tmp_path / source)
    with pytest.raises(error, match=match):
        batch_home.score(model, path, tmp_path / "out", workers=0)
    assert nothing_written(tmp_path)


def test_a_run_that_fails_is_recorded_and_audited(batch_home, inputs, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        batch_home.score("credit:1", inputs["missing column"], tmp_path / "out", workers=0)
    (run,) = batch_home.batch_runs("credit", limit=1)
    assert (run.status, run.version, run.rows_in) == ("failed", 1, 0)
    assert "has no column 'income'" in run.error
    event = batch_home.audit_log("credit")[-1]
    assert (event.action, event.subject, event.after["run_id"]) == ("batch.failed", "credit:1", run.run_id)


def test_an_existing_output_is_kept_unless_overwrite(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    first = batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0)
    with pytest.raises(ConflictError, match="already exists; choose another output, or pass overwrite"):
        batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0)
    second = batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0, overwrite=True)
    manifest = (tmp_path / "out" / "_slipway.json").read_text()
    assert second.record.run_id in manifest and first.record.run_id not in manifest
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_value_the_schema_refuses_names_its_place_and_leaves_no_output(
    batch_home, credit_rows: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "ages-as-text.parquet"
    credit_rows.astype({"age": str}).to_parquet(path)
    with pytest.raises(
        InvalidInputError,
        match=r"input rows 0 to 499: column 'age', row 0: expected an integer, got '\d+' \(str\)",
    ):
        batch_home.score("credit:1", path, tmp_path / "out", workers=0, chunk_rows=500)
    assert nothing_written(tmp_path)
