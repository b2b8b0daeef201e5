"""Acceptance: the same rows through the Python API, the local engine and the Spark engine give
identical predictions, probabilities, flags (with reasons), rejections and extras."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from slipway.batch.output import to_online_rows
from slipway.batch.worker import default_scorer
from slipway.examples import apartments
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


@pytest.fixture(scope="module")
def compiled_lookup_model(batch_home, apartments_model, apartments_data, tmp_path_factory) -> str:
    """apartments with its zip lookup declared and a verified ONNX runtime, as `slipway build` makes it."""
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
    return f"apartments:{batch_home.register(built).version}"


@pytest.fixture
def flats_to_score(
    apartments_data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[pd.DataFrame, Path]:
    """Apartments as requests send them (the zip code, not its price), some with unknown or no zip code;
    the zip table in a SQLite file named by the environment variable the artifact's lookup reads."""
    monkeypatch.setenv(apartments.ZIP_DB_URL_ENV, apartments.write_zip_table(tmp_path / "zip.db"))
    frame = apartments_data.holdout.drop(columns=[apartments.LOOKUP_VALUE, apartments.TARGET]).reset_index(
        drop=True
    )
    frame.insert(0, "row_id", range(len(frame)))
    frame[apartments.LOOKUP_KEY] = frame[apartments.LOOKUP_KEY].astype(object)
    frame.loc[frame.index[5::61], apartments.LOOKUP_KEY] = "99999"  # no market price: rejected
    frame.loc[frame.index[11::89], apartments.LOOKUP_KEY] = None  # no zip code: rejected
    path = tmp_path / "flats.parquet"
    frame.to_parquet(path, index=False, row_group_size=400)
    return frame, path


def test_lookups_and_the_compiled_runtime_give_the_same_rows_online_local_and_on_spark(
    batch_home, compiled_lookup_model: str, flats_to_score, spark, tmp_path: Path
) -> None:
    frame, source = flats_to_score
    scorer = batch_home.scorer(compiled_lookup_model)  # online: one batched query per call
    try:
        online_batch = scorer.score_frame(frame)
    finally:
        _close(scorer)
    online = online_batch.rows()

    local = batch_home.score(compiled_lookup_model, source, tmp_path / "local", chunk_rows=300, workers=2)
    on_spark = batch_home.score(
        compiled_lookup_model, source, tmp_path / "spark", engine="spark", partitions=3
    )

    assert online_batch.runtime == "onnx"
    assert local.outcome.runtime == on_spark.outcome.runtime == "onnx"
    assert output_rows(tmp_path / "local") == online
    assert output_rows(tmp_path / "spark") == online
    rejected = sum(row["rejected"] for row in online)
    assert rejected == len(frame.index[5::61].union(frame.index[11::89]))
    codes = {flag["code"] for row in online for flag in row["flags"]}
    assert codes == {"lookup_miss", "lookup_missing_key"}
    for result in (local, on_spark):
        assert (result.record.rows_in, result.record.rows_rejected) == (len(frame), rejected)
        assert result.record.options["runtime"] == "onnx"


def _close(scorer) -> None:
    for stage in scorer.stages:
        stage.close()
