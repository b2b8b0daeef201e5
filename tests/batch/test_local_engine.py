"""The local engine: inputs (partitioned Parquet, CSV), kept columns, the manifest and the record,
resume rules, progress, and the run's audit event."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from slipway.batch.chunks import fixed_chunks
from slipway.batch.local import LocalBatchEngine
from slipway.batch.output import IDENTITY_COLUMNS, RESULT_COLUMNS, to_online_rows
from slipway.batch.progress import RichProgress
from slipway.batch.staging import MANIFEST, output_digest, staging_folder
from slipway.batch.worker import PartResult
from slipway.core.errors import ConflictError, InvalidInputError


def scored(folder: Path) -> pa.Table:
    return pq.read_table(folder).sort_by("row_id")


def test_a_partitioned_folder_scores_like_the_single_file(
    batch_home, credit_rows: pd.DataFrame, credit_parquet: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "loans"
    pq.write_to_dataset(
        pa.Table.from_pandas(credit_rows, preserve_index=False), folder, partition_cols=["purpose"]
    )
    keep = ["row_id", "purpose"]  # a feature, read back from the partition folders' names
    batch_home.score("credit:1", folder, tmp_path / "from-folder", workers=0, chunk_rows=333, keep=keep)
    batch_home.score("credit:1", credit_parquet, tmp_path / "from-file", workers=0, keep=keep)
    from_folder, from_file = scored(tmp_path / "from-folder"), scored(tmp_path / "from-file")
    assert to_online_rows(from_folder) == to_online_rows(from_file)
    assert from_folder.column("purpose").to_pylist() == from_file.column("purpose").to_pylist()


def test_csv_input_and_chosen_kept_columns(batch_home, credit_rows: pd.DataFrame, tmp_path: Path) -> None:
    csv = tmp_path / "loans.csv"
    credit_rows.to_csv(csv, index=False)
    result = batch_home.score("credit:1", csv, tmp_path / "out", keep=["row_id", "age"], workers=0)
    table = scored(tmp_path / "out")
    assert table.column_names == ["row_id", "age", *RESULT_COLUMNS, *IDENTITY_COLUMNS]
    assert table.column("age").to_pylist() == credit_rows["age"].tolist()
    assert set(table.column("model_name").to_pylist()) == {"credit"}
    assert set(table.column("model_version").to_pylist()) == {1}
    assert set(table.column("artifact_digest").to_pylist()) == {result.record.digest}
    assert set(table.column("run_id").to_pylist()) == {result.record.run_id}


def test_by_default_every_non_feature_column_is_kept(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0)
    assert pq.read_schema(tmp_path / "out" / "part-000000.parquet").names[:3] == [
        "row_id",
        "gender",
        "default",
    ]


@pytest.mark.parametrize(
    ("keep", "match"),
    [
        (["flags"], r"input column 'flags' would clash with the output column"),
        (["nope"], r"cannot keep column 'nope': the input has no such column"),
    ],
    ids=["clash", "unknown"],
)
def test_kept_columns_are_checked(batch_home, credit_parquet: Path, tmp_path: Path, keep, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        batch_home.score("credit:1", credit_parquet, tmp_path / "out", keep=keep, workers=0)
    assert not (tmp_path / "out").exists() and not staging_folder(tmp_path / "out").exists()


def test_the_output_manifest_and_the_registry_record_agree(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    result = batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0, chunk_rows=500)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    parts = [PartResult(**part) for part in manifest["parts"]]
    assert [part.file for part in parts] == [
        "part-000000.parquet",
        "part-000001.parquet",
        "part-000002.parquet",
    ]
    assert output_digest(parts) == manifest["output_digest"] == result.record.output_digest
    assert batch_home.batch_run(result.record.run_id) == result.record
    event = batch_home.audit_log("credit")[-1]
    assert (event.action, event.subject) == ("batch.completed", "credit:1")
    assert event.after["rows_in"] == result.record.rows_in == 1_200
    assert event.after["output_digest"] == result.record.output_digest


def test_resume_needs_the_same_input_model_and_options(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    staging = staging_folder(output)
    staging.mkdir()
    (staging / "_journal.jsonl").write_text(json.dumps({"key": "another run", "run_id": "r0"}) + "\n")
    with pytest.raises(
        ConflictError, match=r"cannot resume into .*: the partial run r0 .* scored other input"
    ):
        batch_home.score("credit:1", credit_parquet, output, workers=0, resume=True)
    result = batch_home.score("credit:1", credit_parquet, output, workers=0)  # without --resume: start over
    assert result.outcome.parts_resumed == 0 and output.is_dir() and not staging.exists()


def test_progress_shows_rows_speed_and_time_left(batch_home, credit_parquet: Path, tmp_path: Path) -> None:
    screen = StringIO()
    reporter = RichProgress(console=Console(file=screen, width=120, force_terminal=False))
    batch_home.score("credit:1", credit_parquet, tmp_path / "out", workers=0, progress=reporter)
    shown = screen.getvalue()
    assert "1200/1200" in shown and "rows/s" in shown


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"workers": -1}, r"invalid number of workers -1"),
        ({"chunk_rows": 0}, r"invalid chunk size 0"),
        ({"engine": "dask"}, r"unknown batch engine 'dask'; use 'local' or 'spark'"),
        ({"partitions": 4}, r"partitions and master apply to the Spark engine"),
    ],
    ids=["workers", "chunk rows", "engine", "partitions"],
)
def test_bad_options_are_refused(batch_home, credit_parquet: Path, tmp_path: Path, options, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        batch_home.score("credit:1", credit_parquet, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_fixed_chunks_cut_the_same_parts_whatever_the_block_sizes() -> None:
    blocks = [
        pa.record_batch({"x": list(range(start, start + size))}) for start, size in ((0, 7), (7, 1), (8, 13))
    ]
    parts = [chunk.column("x").to_pylist() for chunk in fixed_chunks(blocks, 5)]
    assert parts == [list(range(i, min(i + 5, 21))) for i in range(0, 21, 5)]


def test_an_empty_input_is_refused(batch_home, credit_rows: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "empty.parquet"
    credit_rows.head(0).to_parquet(source)
    with pytest.raises(InvalidInputError, match=r"has no rows to score"):
        batch_home.score("credit:1", source, tmp_path / "out", engine=LocalBatchEngine(workers=0))
    assert not (tmp_path / "out").exists() and not staging_folder(tmp_path / "out").exists()


def test_parts_scored_while_the_workers_load_equal_an_in_process_run_and_no_worker_is_left(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    import multiprocessing

    before = set(multiprocessing.active_children())
    pooled = batch_home.score("credit:1", credit_parquet, tmp_path / "pooled", workers=2, chunk_rows=300)
    alone = batch_home.score("credit:1", credit_parquet, tmp_path / "alone", workers=0, chunk_rows=300)
    assert to_online_rows(scored(tmp_path / "pooled")) == to_online_rows(scored(tmp_path / "alone"))
    assert pooled.record.rows_out == alone.record.rows_out == 1_200
    # Whether the driver or a worker scored a part, the pool is gone when the run returns:
    # workers still loading the artifact are stopped, not waited for.
    assert set(multiprocessing.active_children()) - before == set()


def test_a_worker_has_the_drivers_environment_of_its_own_start(monkeypatch) -> None:
    """Workers fork from a fork server started with the driver's environment of that moment;
    a lookup URL set since must still reach them, as it reaches a spawned worker."""
    from slipway.batch.local import _executor

    first = _executor(1, 1)
    first.submit(os.getpid).result()  # the fork server runs from here on
    first.shutdown()
    monkeypatch.setenv("SLIPWAY_TEST_LATE_VARIABLE", "set after the fork server started")
    monkeypatch.delenv("SLIPWAY_TEST_GONE_VARIABLE", raising=False)
    pool = _executor(1, 1)
    try:
        assert (
            pool.submit(os.getenv, "SLIPWAY_TEST_LATE_VARIABLE").result()
            == "set after the fork server started"
        )
        assert pool.submit(os.getenv, "SLIPWAY_TEST_GONE_VARIABLE").result() is None
        assert pool.submit(os.getenv, "OMP_NUM_THREADS").result() == "1"
    finally:
        pool.shutdown()
