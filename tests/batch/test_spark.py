"""The Spark engine on local[2]: one artifact load per Python worker, inputs, errors, atomic output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slipway.adapters.spark_engine import BATCH_BYTES, SparkBatchEngine, arrow_batch_rows
from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.batch.output import to_online_rows
from slipway.core.errors import InvalidInputError
from slipway.examples import apartments

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ARROW_BATCH_CONF = (
    "spark.sql.execution.arrow.maxRecordsPerBatch",
    "spark.sql.execution.arrow.maxBytesPerBatch",
)


def test_the_artifact_is_loaded_once_per_python_worker_not_per_partition(
    batch_home, apartments_data, spark, tmp_path: Path
) -> None:
    # A model no other test has scored in this session, so no Python worker has it cached yet.
    model = apartments.train(apartments_data.train, max_iter=7)
    spec = BuildSpec(
        name="apartments", train=apartments_data.train, target=apartments.TARGET, features=apartments.FEATURES
    )
    built = build_artifact(model, spec, output=tmp_path / "fresh")
    source = tmp_path / "flats.parquet"
    pd.concat([apartments_data.holdout] * 4).to_parquet(source, row_group_size=500)
    arrow_conf = {name: spark.conf.get(name, None) for name in ARROW_BATCH_CONF}

    result = batch_home.score(built.path, source, tmp_path / "out", engine="spark", partitions=12)

    # local[2] runs two Python workers at a time and reuses them: at most two loads for 12 tasks.
    assert 1 <= result.outcome.artifact_loads <= 2
    assert result.outcome.parts >= 2
    assert result.record.rows_in == 4 * len(apartments_data.holdout)
    assert result.record.version is None and result.record.model == "apartments"
    # Again, on the same (reused) Python workers: nothing to load, and still told which runtime scored.
    again = batch_home.score(built.path, source, tmp_path / "again", engine="spark", partitions=4)
    assert result.outcome.runtime == again.outcome.runtime == "native"
    assert again.outcome.artifact_loads <= 2
    # The Arrow batch settings the engine used are the session's own again.
    assert {name: spark.conf.get(name, None) for name in ARROW_BATCH_CONF} == arrow_conf


@pytest.mark.parametrize("partitions", [None, 3], ids=["tasks-as-planned", "partitions"])
def test_tasks_reading_parquet_write_the_rows_spark_reading_writes(
    batch_home, credit_parquet: Path, spark, tmp_path: Path, partitions: int | None
) -> None:
    outputs = {}
    for name, tasks_read in (("tasks", True), ("spark", False)):
        engine = SparkBatchEngine(partitions=partitions, tasks_read=tasks_read)
        result = batch_home.score("credit:1", credit_parquet, tmp_path / name, engine=engine, chunk_rows=128)
        assert result.outcome.reader == result.record.options["reader"] == name
        assert result.record.rows_in == pq.read_metadata(credit_parquet).num_rows
        outputs[name] = pq.read_table(tmp_path / name).drop_columns(["run_id"])

    if partitions is not None:  # Spark's repartition deals the rows out: compare them in input order
        outputs = {name: table.sort_by("row_id") for name, table in outputs.items()}
    assert outputs["tasks"].column("row_id").to_pylist() == list(range(outputs["tasks"].num_rows))
    assert outputs["tasks"].equals(outputs["spark"])
    if partitions is not None:
        assert len(list((tmp_path / "tasks").glob("part-*.parquet"))) == partitions


@pytest.mark.parametrize(
    ("keep", "reader"),
    [(["row_id"], "tasks"), (["row_id", "batch"], "spark")],
    ids=["stored-columns", "a-partition-column"],
)
def test_a_hive_partition_column_is_read_by_spark(
    batch_home, credit_rows: pd.DataFrame, spark, tmp_path: Path, keep: list[str], reader: str
) -> None:
    folder = tmp_path / "loans"
    for batch, rows in enumerate((credit_rows.iloc[:400], credit_rows.iloc[400:])):
        (folder / f"batch={batch}").mkdir(parents=True)
        rows.to_parquet(folder / f"batch={batch}" / "rows.parquet", index=False, row_group_size=150)

    result = batch_home.score("credit:1", folder, tmp_path / "out", engine="spark", keep=keep)

    assert result.outcome.reader == reader
    scored = pq.read_table(tmp_path / "out").sort_by("row_id")
    assert scored.column("row_id").to_pylist() == credit_rows.row_id.tolist()
    assert scored.column_names[: len(keep)] == keep


@pytest.mark.parametrize(
    ("types", "chunk_rows", "rows"),
    [
        ([pa.float64()] * 30, 100_000, 100_000),  # 240 bytes a row: chunk_rows fit
        ([pa.float64()] * 1_000, 100_000, BATCH_BYTES // 8_000),  # 8 kB a row: fewer
        ([pa.string()] * 100, 100_000, BATCH_BYTES // (100 * 64)),  # strings: 64 bytes assumed
        ([pa.bool_()], 500, 500),
        ([pa.float64()] * 30, 1, 1),
    ],
    ids=["narrow", "wide", "strings", "bool", "one-row"],
)
def test_arrow_batches_hold_chunk_rows_or_fewer_when_rows_are_wide(types, chunk_rows, rows) -> None:
    schema = pa.schema([pa.field(f"c{index}", kind) for index, kind in enumerate(types)])
    assert arrow_batch_rows(schema, chunk_rows) == rows


def test_csv_input_gives_the_same_rows_as_parquet(
    batch_home, credit_rows: pd.DataFrame, credit_parquet: Path, spark, tmp_path: Path
) -> None:
    csv = tmp_path / "loans.csv"
    credit_rows.to_csv(csv, index=False)
    assert batch_home.score("credit:1", csv, tmp_path / "from-csv", engine="spark").outcome.reader == "spark"
    batch_home.score("credit:1", credit_parquet, tmp_path / "from-parquet", workers=0)
    from_csv = to_online_rows(pq.read_table(tmp_path / "from-csv").sort_by("row_id"))
    from_parquet = to_online_rows(pq.read_table(tmp_path / "from-parquet").sort_by("row_id"))
    assert from_csv == from_parquet


def test_a_value_the_schema_refuses_fails_the_job_with_our_error_and_writes_nothing(
    batch_home, credit_rows: pd.DataFrame, spark, tmp_path: Path
) -> None:
    source = tmp_path / "ages-as-text.parquet"
    credit_rows.astype({"age": str}).to_parquet(source)
    with pytest.raises(InvalidInputError, match=r"column 'age', row 0: expected an integer, got '\d+'"):
        batch_home.score("credit:1", source, tmp_path / "out", engine="spark")
    assert [path.name for path in tmp_path.iterdir()] == ["ages-as-text.parquet"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"resume": True}, r"--resume applies to the local engine"),
        ({"workers": 2}, r"workers applies to the local engine"),
        ({"partitions": 0}, r"invalid number of partitions 0"),
    ],
    ids=["resume", "workers", "partitions"],
)
def test_options_that_do_not_apply_to_spark_are_refused(
    batch_home, credit_parquet: Path, spark, tmp_path: Path, options, match
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        batch_home.score("credit:1", credit_parquet, tmp_path / "out", engine="spark", **options)
    assert not (tmp_path / "out").exists()
