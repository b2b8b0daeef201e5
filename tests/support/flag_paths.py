"""ONE helper asserting that every scoring path gives the same rows: predictions, probabilities,
rejections, flags (with their reasons) and extras (intervals, prediction sets).

A path is a function ``(context, rows) -> list of row dicts`` in the JSON form of
``ScoredBatch.rows()``: the Python API, the HTTP server (slipway's JSON protocol on a real
uvicorn), the local batch engine and the Spark engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from slipway.api import Slipway
from slipway.batch.output import to_online_rows
from support.live_server import LiveServer

ROW_ID = "row_id"


@dataclass(frozen=True)
class PathContext:
    slipway: Slipway
    ref: str  # a registered version, e.g. "credit:1"
    workdir: Path


Rows = list[dict[str, Any]]
ScoringPath = Callable[[PathContext, pd.DataFrame], Rows]


def python_api(context: PathContext, rows: pd.DataFrame) -> Rows:
    return context.slipway.scorer(context.ref).score_frame(rows).rows()


def http_server(context: PathContext, rows: pd.DataFrame) -> Rows:
    """The rows as JSON records (NaN as null) to ``POST /v1/models/NAME/predict`` of a live server."""
    server = LiveServer(context.slipway.app(context.ref)).start()
    try:
        scorer = server.state.model.scorer
        wanted = [name for name in scorer.input_columns if name in rows.columns]
        with server.client() as client:
            response = client.post(
                f"/v1/models/{scorer.artifact.name}/predict",
                content=b'{"records": ' + rows[wanted].to_json(orient="records").encode() + b"}",
                headers={"content-type": "application/json"},
            )
        assert response.status_code == 200, response.text
        predictions: Rows = response.json()["predictions"]
        return predictions
    finally:
        server.stop()


def _batch(context: PathContext, rows: pd.DataFrame, engine: str, **options: Any) -> Rows:
    folder = context.workdir / engine
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "input.parquet"
    rows.assign(**{ROW_ID: range(len(rows))}).to_parquet(source, index=False, row_group_size=97)
    context.slipway.score(context.ref, source, folder / "output", engine=engine, **options)
    return to_online_rows(pq.read_table(folder / "output").sort_by(ROW_ID))


def local_engine(context: PathContext, rows: pd.DataFrame) -> Rows:
    return _batch(context, rows, "local", chunk_rows=150, workers=2)


def spark_engine(context: PathContext, rows: pd.DataFrame) -> Rows:
    """Needs the test session's SparkSession (``spark`` fixture in tests/batch/conftest.py)."""
    return _batch(context, rows, "spark", partitions=3)


DEFAULT_PATHS: tuple[ScoringPath, ...] = (python_api, http_server, local_engine, spark_engine)


def assert_same_rows(
    context: PathContext, rows: pd.DataFrame, paths: Sequence[ScoringPath] = DEFAULT_PATHS
) -> Rows:
    """Score ``rows`` through every path; assert they all give the first path's rows; return them."""
    first, *others = paths
    expected = first(context, rows)
    assert len(expected) == len(rows)
    for path in others:
        got = path(context, rows)
        mismatched = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
        assert not mismatched, (
            f"{path.__name__} differs from {first.__name__} at row {mismatched[0]}: "
            f"{got[mismatched[0]]} != {expected[mismatched[0]]}"
        )
    return expected
