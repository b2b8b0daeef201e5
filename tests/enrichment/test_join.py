"""Batch lookups are a join, and give exactly the online values, flags and rejections."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from slipway.adapters.lookup_sources import open_lookup_source
from slipway.enrichment.artifact import placeholders
from slipway.enrichment.join import ERROR_COLUMN, JoinLookupStage, fetch_lookup_table, join_frame
from slipway.enrichment.online import LookupStage
from slipway.enrichment.source import TableLookupSource
from slipway.enrichment.spec import LookupSpec
from slipway.examples import apartments
from slipway.scoring.scorer import Scorer

ZIP, PRICE = apartments.LOOKUP_KEY, apartments.LOOKUP_VALUE


@pytest.fixture
def requests_with_misses(requests_frame):
    frame = requests_frame(300)
    frame.loc[[3, 40], ZIP] = "99999"  # unknown zip codes
    frame.loc[[7], ZIP] = None  # no zip code
    return frame


def test_online_and_batch_give_identical_values_and_flags(
    zip_source, loaded_lookup_artifact, requests_with_misses
):
    spec = zip_source.spec()
    typical = placeholders(loaded_lookup_artifact.profile, [spec])
    online_stage = LookupStage(spec, open_lookup_source(spec), placeholders=typical)
    batch_stage = JoinLookupStage(spec, open_lookup_source(spec), placeholders=typical)
    try:
        batch_stage.check_reachable()
        online = Scorer(loaded_lookup_artifact, stages=[online_stage]).score_frame(requests_with_misses)
        batch = Scorer(loaded_lookup_artifact, stages=[batch_stage]).score_frame(requests_with_misses)
    finally:
        online_stage.close()
        batch_stage.close()
    assert online.rows() == batch.rows()
    assert np.flatnonzero(online.rejected).tolist() == [3, 7, 40]
    assert batch.notes["lookups"]["zip_prices"]["missed"] == 3
    assert batch_stage.source.queries == 1, "one query for the whole chunk's distinct keys"
    JoinLookupStage.from_table(spec, fetch_lookup_table(spec, TableLookupSource({}), [])).check_reachable()


def test_the_join_fills_the_values_the_model_was_trained_with(sqlite_zip, requests_frame, apartments_data):
    spec = sqlite_zip.spec()
    source = open_lookup_source(spec)
    try:
        frame = requests_frame(200)
        table = fetch_lookup_table(spec, source, [(z,) for z in frame[ZIP]])
    finally:
        source.close()
    joined, flags = join_frame(spec, frame, table)
    expected = apartments_data.holdout[PRICE].head(200).to_numpy()
    np.testing.assert_array_equal(joined[PRICE].to_numpy(), expected)
    assert not any(flags)
    assert table.schema.field(PRICE).type == pa.float64() and table.schema.field(ZIP).type == pa.string()
    assert table.num_rows == frame[ZIP].nunique()
    assert table.column(ERROR_COLUMN).null_count == table.num_rows


def test_a_prefetched_table_serves_every_partition_like_online(
    loaded_lookup_artifact, requests_with_misses, zip_prices
):
    """What a Spark engine does: fetch once on the driver, join in each partition."""
    spec = LookupSpec.model_validate(
        {**apartments.lookup(), "source": {"kind": "sql", "url": "sqlite:///x", "table": "t"}}
    )
    rows = {(z,): (p,) for z, p in zip(zip_prices[ZIP], zip_prices[PRICE], strict=True)}
    table = fetch_lookup_table(spec, TableLookupSource(rows), [(z,) for z in zip_prices[ZIP]])
    typical = placeholders(loaded_lookup_artifact.profile, [spec])
    parts = [requests_with_misses.iloc[:150], requests_with_misses.iloc[150:]]
    by_partition = [
        Scorer(
            loaded_lookup_artifact, stages=[JoinLookupStage.from_table(spec, table, placeholders=typical)]
        ).score_frame(part.reset_index(drop=True))
        for part in parts
    ]
    online = Scorer(
        loaded_lookup_artifact, stages=[LookupStage(spec, TableLookupSource(rows), placeholders=typical)]
    ).score_frame(requests_with_misses)
    assert by_partition[0].rows() + by_partition[1].rows() == online.rows()


def test_bad_stored_values_fail_the_same_way_in_the_join():
    spec = LookupSpec.model_validate(
        {**apartments.lookup(), "source": {"kind": "sql", "url": "sqlite:///x", "table": "t"}}
    )
    rows = {("75001",): ("n/a",), ("75002",): (12_000,)}
    table = fetch_lookup_table(spec, TableLookupSource(rows), [("75001",), ("75002",), ("75003",)])
    assert table.column(ERROR_COLUMN).to_pylist() == [
        None,
        "the source's zip_avg_price_m2 'n/a' is not a number",
    ]
    frame = apartments.generate(3).assign(**{ZIP: ["75001", "75002", "75003"]})
    joined, flags = join_frame(spec, frame, table)
    online_stage = LookupStage(spec, TableLookupSource(rows))
    from slipway.scoring.batch import Batch

    batch = Batch(columns={ZIP: frame[ZIP].to_numpy(dtype=object)}, n_rows=3)
    online_stage.apply(batch)
    assert [[flag.to_dict() for flag in row] for row in flags] == [
        [flag.to_dict() for flag in row] for row in batch.flags
    ]
    assert joined[PRICE].tolist() == batch.columns[PRICE].tolist()
    assert [row[0].code if row else None for row in flags] == ["lookup_failed", None, "lookup_miss"]


def test_a_failed_table_read_sends_every_keyed_row_to_on_error(loaded_lookup_artifact, requests_frame):
    spec = LookupSpec.model_validate(
        {
            **apartments.lookup(),
            "timeout_ms": 5_000,
            "source": {"kind": "sql", "table": "t", "url": "sqlite:////nonexistent/zip.db"},
        }
    )
    stage = JoinLookupStage(spec, open_lookup_source(spec))
    try:
        scored = Scorer(loaded_lookup_artifact, stages=[stage]).score_frame(requests_frame(20))
    finally:
        stage.close()
    assert not scored.rejected.any()
    assert all(
        row[0].code == "lookup_failed" and "unable to open database file" in row[0].detail["error"]
        for row in scored.flags
    )


def test_a_stage_takes_a_source_or_a_table():
    spec = LookupSpec.model_validate(
        {**apartments.lookup(), "source": {"kind": "sql", "url": "sqlite:///x", "table": "t"}}
    )
    with pytest.raises(ValueError, match="not both"):
        JoinLookupStage(spec)
