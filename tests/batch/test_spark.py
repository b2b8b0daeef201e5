"""The Spark engine on local[2]: one artifact load per Python worker, inputs, errors, atomic output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slipway.adapters.spark_engine import BATCH_BYTES, arrow_batch_rows
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
    batch_home.score("credit:1", csv, tmp_path / "from-csv", engine="spark")
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
