"""Acceptance: the same rows through the Python API, the local engine and the Spark engine give
identical predictions, probabilities, flags (with reasons), rejections and extras."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from slipway.batch.output import to_online_rows
from slipway.batch.worker import default_scorer
from support.batch_stages import guarded_scorer

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def output_rows(folder: Path) -> list[dict]:
    table = pq.read_table(folder).sort_by("row_id")
    return to_online_rows(table)


@pytest.mark.parametrize("factory", [default_scorer, guarded_scorer], ids=["plain", "guarded"])
def test_python_api_local_engine_and_spark_agree(
    batch_home, credit_rows: pd.DataFrame, credit_parquet: Path, spark, tmp_path: Path, factory
) -> None:
    artifact = batch_home.load("credit:1")
    online = factory(artifact).score_frame(credit_rows).rows()

    local = batch_home.score(
        "credit:1", credit_parquet, tmp_path / "local", chunk_rows=250, workers=2, scorer_factory=factory
    )
    on_spark = batch_home.score(
        "credit:1", credit_parquet, tmp_path / "spark", engine="spark", partitions=3, scorer_factory=factory
    )

    assert output_rows(tmp_path / "local") == online
    assert output_rows(tmp_path / "spark") == online
    flagged = sum(bool(row["flags"]) for row in online)
    rejected = sum(row["rejected"] for row in online)
    for result in (local, on_spark):
        assert result.record.rows_in == len(credit_rows)
        assert (result.record.rows_flagged, result.record.rows_rejected) == (flagged, rejected)
    if factory is guarded_scorer:  # the stages fired, so flags and rejections were compared
        assert 0 < rejected < flagged < len(online)
