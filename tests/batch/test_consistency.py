"""Acceptance: the same rows through the Python API, the local engine and the Spark engine give
identical predictions, probabilities, flags (with reasons), rejections and extras."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from slipway.adapters.batch_scorer import artifact_scorer
from slipway.batch.output import IDENTITY_COLUMNS, RESULT_COLUMNS, to_online_rows
from slipway.batch.worker import default_scorer, factory_name
from slipway.examples import apartments
from support.batch_stages import guarded_scorer
from support.flag_paths import PathContext, assert_same_rows

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
    assert on_spark.outcome.reader == "tasks"  # Parquet, no lookups: the Python tasks read the input
    flagged = sum(bool(row["flags"]) for row in online)
    rejected = sum(row["rejected"] for row in online)
    for result in (local, on_spark):
        assert result.record.rows_in == len(credit_rows)
        assert (result.record.rows_flagged, result.record.rows_rejected) == (flagged, rejected)
    if factory is guarded_scorer:  # the stages fired, so flags and rejections were compared
        assert 0 < rejected < flagged < len(online)
    # Spark adds the identity columns itself: the same columns and order as the local engine, and
    # the same types for those slipway writes (kept ones may differ, e.g. large_string from pandas).
    local_table, spark_table = (pq.read_table(tmp_path / engine) for engine in ("local", "spark"))
    assert spark_table.column_names == local_table.column_names
    written = [*RESULT_COLUMNS, *IDENTITY_COLUMNS]
    assert spark_table.select(written).schema.types == local_table.select(written).schema.types
    for result, table in ((local, local_table), (on_spark, spark_table)):
        identity = {tuple(row.values()) for row in table.select(IDENTITY_COLUMNS).to_pylist()}
        assert identity == {("credit", 1, result.record.digest, result.record.run_id)}


@pytest.fixture(scope="module")
def compiled_lookup_model(batch_home, apartments_model, apartments_data, tmp_path_factory) -> str:
    """apartments as `slipway build` makes it: its zip lookup declared, its default runtime guards
    fitted, and a verified ONNX runtime."""
    built = batch_home.build(
        apartments_model,
        name="apartments",
        train=apartments_data.train,
        validation=apartments_data.validation,
        target=apartments.TARGET,
        features=apartments.FEATURES,
        lookups=[apartments.lookup(timeout_ms=10_000)],
        output=tmp_path_factory.mktemp("artifacts") / "apartments-compiled-lookup",
    )
    assert built.manifest.sections["runtime"]["verified"], built.manifest.sections["runtime"]["reason"]
    assert {"domain", "conformal"} <= set(built.manifest.sections["guards"]["guards"])
    return f"apartments:{batch_home.register(built).version}"


@pytest.fixture
def flats_to_score(apartments_data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """Apartments as requests send them (the zip code, not its price): some with an unknown or no
    zip code, some too large for the training range. The zip table is a SQLite file named by the
    environment variable the artifact's lookup reads."""
    monkeypatch.setenv(apartments.ZIP_DB_URL_ENV, apartments.write_zip_table(tmp_path / "zip.db"))
    frame = apartments_data.holdout.drop(columns=[apartments.LOOKUP_VALUE, apartments.TARGET])
    frame = frame.reset_index(drop=True)
    frame[apartments.LOOKUP_KEY] = frame[apartments.LOOKUP_KEY].astype(object)
    frame.loc[frame.index[5::61], apartments.LOOKUP_KEY] = "99999"  # no market price: rejected
    frame.loc[frame.index[11::89], apartments.LOOKUP_KEY] = None  # no zip code: rejected
    frame.loc[frame.index[3::47], "surface"] = 400.0  # outside the training range: flagged
    return frame


def test_lookups_guards_and_the_compiled_runtime_give_the_same_rows_online_local_and_on_spark(
    batch_home, compiled_lookup_model: str, flats_to_score: pd.DataFrame, spark, tmp_path: Path
) -> None:
    frame = flats_to_score
    context = PathContext(batch_home, compiled_lookup_model, tmp_path)

    scored = assert_same_rows(context, frame)  # Python API (online lookups), local engine, Spark (joins)

    seen = Counter((flag["guard"], flag["code"]) for row in scored for flag in row["flags"])
    no_zip = frame.index[11::89]
    misses = frame.index[5::61].difference(no_zip)
    rejected = misses.union(no_zip)
    assert (seen[("lookup", "lookup_miss")], seen[("lookup", "lookup_missing_key")]) == (
        len(misses),
        len(no_zip),
    )
    assert sum(row["rejected"] for row in scored) == len(rejected)
    assert seen[("domain", "above_range")] >= len(frame.index[3::47].difference(rejected)) > 0
    assert all(row["interval"] is not None for row in scored if not row["rejected"])
    assert batch_home.scorer(compiled_lookup_model).runtime_name == "onnx"
    runs = batch_home.batch_runs("apartments", limit=2)
    assert {run.engine: run.options["runtime"] for run in runs} == {"local": "onnx", "spark": "onnx"}
    assert {run.engine: run.options["reader"] for run in runs} == {"local": None, "spark": "spark"}


def test_a_partial_scorer_factory_is_named_by_its_function_and_arguments(
    batch_home, credit_parquet: Path, tmp_path: Path
) -> None:
    unguarded = partial(artifact_scorer, guards=False)
    assert factory_name(unguarded) == "slipway.adapters.batch_scorer.artifact_scorer(guards=False)"
    assert factory_name(artifact_scorer) == "slipway.adapters.batch_scorer.artifact_scorer"
    result = batch_home.score(
        "credit:1", credit_parquet, tmp_path / "out", workers=1, scorer_factory=unguarded
    )
    assert result.record.rows_in == pq.read_metadata(credit_parquet).num_rows
