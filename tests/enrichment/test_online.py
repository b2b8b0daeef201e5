"""Online lookups against each real source: values, misses, policies, cache, one query per batch."""

from __future__ import annotations

import numpy as np
import pytest

from slipway.adapters.lookup_sources import open_lookup_source
from slipway.core.errors import InvalidInputError
from slipway.enrichment.online import LookupStage
from slipway.enrichment.source import TableLookupSource
from slipway.enrichment.spec import LookupSpec
from slipway.examples import apartments
from slipway.scoring.batch import Batch

ZIP, PRICE = apartments.LOOKUP_KEY, apartments.LOOKUP_VALUE


def batch_of(zip_codes):
    values = np.asarray(zip_codes, dtype=object)
    return Batch(columns={ZIP: values}, n_rows=len(values))


@pytest.fixture
def stage(zip_source):
    opened = LookupStage(zip_source.spec(), open_lookup_source(zip_source.spec()))
    yield opened
    opened.close()


def test_values_come_from_the_source(stage, zip_prices):
    batch = batch_of(list(zip_prices[ZIP]))
    stage.apply(batch)
    np.testing.assert_array_equal(batch.columns[PRICE], zip_prices[PRICE].to_numpy())
    assert batch.columns[PRICE].dtype == np.float64
    assert not batch.rejected.any() and all(not flags for flags in batch.flags)


def test_one_query_per_batch_whatever_its_size(stage, zip_prices):
    statements = count_statements(stage.source)
    zips = list(zip_prices[ZIP])
    stage.apply(batch_of(zips * 50))  # 1,000 rows, 20 distinct keys
    assert stage.source.queries == 1
    stage.apply(batch_of(["75001", "99999"]))  # one key cached, one unknown
    assert stage.source.queries == 2
    if statements is not None:
        assert len(statements) == 2, "what the database saw, not only what the adapter counted"
        assert all("IN" in statement for statement in statements)


def count_statements(source):
    """Statements a SQL source's engine sends, seen by a SQLAlchemy event listener (None for Redis)."""
    engine = getattr(source, "engine", None)
    if engine is None:
        return None
    import sqlalchemy as sa

    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_repeated_keys_are_answered_from_the_cache(stage, zip_prices):
    zips = list(zip_prices[ZIP])
    first, second = batch_of(zips[:5]), batch_of(zips[:5])
    stage.apply(first)
    stage.apply(second)
    assert stage.source.queries == 1
    assert second.notes["lookups"]["zip_prices"]["cache_hits"] == 5
    assert second.notes["lookups"]["zip_prices"]["queried"] == 0
    np.testing.assert_array_equal(first.columns[PRICE], second.columns[PRICE])


def test_a_miss_is_cached_too(stage):
    stage.apply(batch_of(["99999"]))
    stage.apply(batch_of(["99999"]))
    assert stage.source.queries == 1


def test_an_unknown_key_follows_on_miss_reject(stage):
    batch = batch_of(["75001", "99999", None])
    stage.apply(batch)
    assert batch.rejected.tolist() == [False, True, True]
    miss, null = batch.flags[1][0], batch.flags[2][0]
    assert (miss.guard, miss.code, miss.action, miss.feature, miss.value) == (
        "lookup",
        "lookup_miss",
        "reject",
        ZIP,
        "99999",
    )
    assert miss.message == "zip_prices has no value for zip_code='99999'; row not scored"
    assert null.code == "lookup_missing_key" and null.value is None
    assert not np.isnan(batch.columns[PRICE]).any(), "rejected rows keep a typed placeholder"


def test_an_unknown_key_follows_on_miss_default(zip_source):
    spec = zip_source.spec(on_miss={"action": "default", "values": {PRICE: 10_000.0}})
    stage = LookupStage(spec, open_lookup_source(spec))
    try:
        batch = batch_of(["75001", "99999"])
        stage.apply(batch)
    finally:
        stage.close()
    assert not batch.rejected.any()
    assert batch.columns[PRICE][1] == 10_000.0
    flag = batch.flags[1][0]
    assert flag.action == "flag" and flag.code == "lookup_miss"
    assert flag.detail == {"lookup": "zip_prices", "defaults": {PRICE: 10_000.0}}
    assert "used the default zip_avg_price_m2=10000.0" in flag.message


@pytest.mark.parametrize(
    ("value", "match"),
    [(75001, r"expected a string .*got 75001 \(int\)"), (True, r"expected a string .*got True \(bool\)")],
    ids=["int-for-string", "bool-for-string"],
)
def test_a_key_of_the_wrong_type_is_the_callers_mistake(stage, value, match):
    with pytest.raises(InvalidInputError, match=rf"column 'zip_code', row 1: {match}"):
        stage.apply(batch_of(["75001", value]))


def test_a_request_without_the_key_column_is_refused(stage):
    with pytest.raises(
        InvalidInputError, match="missing column 'zip_code': the lookup 'zip_prices' needs it"
    ):
        stage.apply(Batch(columns={"surface": np.ones(2)}, n_rows=2))


def test_the_source_answers_the_readiness_probe(stage):
    stage.check_reachable()


def test_stored_values_that_are_not_of_the_declared_type_follow_on_error():
    spec = LookupSpec.model_validate(
        {**apartments.lookup(), "source": {"kind": "sql", "url": "sqlite:///x.db", "table": "t"}}
    )
    source = TableLookupSource({("75001",): ("not a price",), ("75002",): (None,), ("75003",): ("12000",)})
    stage = LookupStage(spec, source)
    batch = batch_of(["75001", "75002", "75003"])
    stage.apply(batch)
    default = spec.error_policy.values[PRICE]
    assert batch.columns[PRICE].tolist() == [default, default, 12000.0]
    assert [flags[0].code for flags in batch.flags[:2]] == ["lookup_failed", "lookup_failed"]
    assert "the source's zip_avg_price_m2 'not a price' is not a number" in batch.flags[0][0].message
    assert "(null)" in batch.flags[1][0].message
    assert not batch.flags[2]


def test_composite_keys_and_integer_keys():
    spec = LookupSpec.model_validate(
        {
            "name": "rates",
            "keys": {"region": "string", "year": "integer"},
            "values": {"rate": "number", "capped": "boolean"},
            "source": {"kind": "sql", "url": "sqlite:///x.db", "table": "rates"},
        }
    )
    source = TableLookupSource({("north", 2024): (1.5, 1), ("south", 2024): ("2.5", "false")})
    stage = LookupStage(spec, source)
    batch = Batch(
        columns={
            "region": np.asarray(["north", "south", "north"], dtype=object),
            "year": np.asarray([2024, 2024.0, 2023]),
        },
        n_rows=3,
    )
    stage.apply(batch)
    assert batch.columns["rate"][:2].tolist() == [1.5, 2.5]
    assert batch.columns["capped"][:2].tolist() == [True, False]
    assert batch.rejected.tolist() == [False, False, True]
    assert batch.flags[2][0].value == {"region": "north", "year": 2023} and batch.flags[2][0].feature is None
