"""The SQL and Redis lookup sources on real databases: tables, queries, composite keys, errors."""

from __future__ import annotations

import sqlite3

import pytest

from slipway.adapters.lookup_redis import RedisLookupSource
from slipway.adapters.lookup_sources import open_lookup_source
from slipway.adapters.lookup_sql import SqlLookupSource
from slipway.core.errors import InvalidInputError
from slipway.core.settings import Secret
from slipway.enrichment.source import LookupSourceError
from slipway.enrichment.spec import LookupSpec

RATES = [("north", 2024, 1.5), ("north", 2025, 1.75), ("south", 2024, 2.0)]


def rates_spec(url: str, **source) -> LookupSpec:
    return LookupSpec.model_validate(
        {
            "name": "rates",
            "keys": {"region": "string", "year": "integer"},
            "values": {"rate": "number"},
            "source": {"kind": "sql", "url": url, **(source or {"table": "rates"})},
        }
    )


def write_rates(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE rates (area TEXT, year INTEGER, rate DOUBLE PRECISION)"))
        connection.execute(
            sa.text("INSERT INTO rates VALUES (:a, :y, :r)"), [{"a": a, "y": y, "r": r} for a, y, r in RATES]
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rates_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rates.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    write_rates(url)
    return url


@pytest.mark.parametrize(
    "source",
    [
        {"table": "rates", "columns": {"region": "area"}},
        {"query": "SELECT area AS region, year, rate FROM rates WHERE (area, year) IN :keys"},
    ],
    ids=["table", "query"],
)
def test_composite_keys_in_one_query(rates_url, source):
    lookup = SqlLookupSource(rates_spec(rates_url, **source), Secret(rates_url))
    try:
        found = lookup.fetch([("north", 2025), ("south", 2024), ("east", 2024)])
    finally:
        lookup.close()
    assert found == {("north", 2025): (1.75,), ("south", 2024): (2.0,)}
    assert lookup.queries == 1


def test_long_key_lists_are_sent_in_chunks(rates_url):
    lookup = SqlLookupSource(
        rates_spec(rates_url, table="rates", columns={"region": "area"}), Secret(rates_url), max_keys=2
    )
    try:
        found = lookup.fetch([(area, year) for area, year, _ in RATES])
    finally:
        lookup.close()
    assert len(found) == 3 and lookup.queries == 2


def test_a_query_must_name_the_key_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'rates.db'}"
    write_rates(url)
    lookup = SqlLookupSource(
        rates_spec(url, query="SELECT area, year, rate FROM rates WHERE (area, year) IN :keys"), Secret(url)
    )
    try:
        with pytest.raises(LookupSourceError, match=r"the query returns no column 'region'.*AS region"):
            lookup.fetch([("north", 2024)])
    finally:
        lookup.close()


def test_sqlite_lookups_open_the_file_read_only(tmp_path):
    path = tmp_path / "rates.db"
    url = f"sqlite:///{path}"
    write_rates(url)
    lookup = SqlLookupSource(rates_spec(url, table="rates", columns={"region": "area"}), Secret(url))
    try:
        with lookup.engine.connect() as connection, pytest.raises(Exception, match="readonly"):
            connection.exec_driver_sql("DELETE FROM rates")
    finally:
        lookup.close()
    assert len(sqlite3.connect(path).execute("SELECT * FROM rates").fetchall()) == 3


def test_a_missing_sqlite_file_is_an_error_not_a_new_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    lookup = SqlLookupSource(rates_spec(url), Secret(url))
    try:
        with pytest.raises(LookupSourceError, match="unable to open database file"):
            lookup.ping()
    finally:
        lookup.close()
    assert not (tmp_path / "missing.db").exists()


def test_readiness_checks_the_table_and_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'rates.db'}"
    write_rates(url)
    lookup = SqlLookupSource(rates_spec(url, table="rates"), Secret(url))  # no 'region' column
    try:
        with pytest.raises(LookupSourceError, match=r"no such column: rates\.region"):
            lookup.ping()
    finally:
        lookup.close()


@pytest.mark.postgres
def test_errors_never_show_the_password(postgres_server):
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:5432/no_such_database"
    lookup = SqlLookupSource(rates_spec(url), Secret(url))
    try:
        with pytest.raises(LookupSourceError) as raised:
            lookup.fetch([("north", 2024)])
    finally:
        lookup.close()
    assert "s3cret-pw" not in str(raised.value) and "postgres:***@127.0.0.1" in str(raised.value)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("sqlite://", "names no file"),
        ("::not a url::", "malformed database URL"),
    ],
    ids=["unsupported", "in-memory", "malformed"],
)
def test_unusable_sql_urls(url, match):
    with pytest.raises(InvalidInputError, match=match):
        open_lookup_source(rates_spec(url))


@pytest.mark.redis
def test_redis_hash_fields_can_be_named_differently(redis_url):
    import redis

    spec = LookupSpec.model_validate(
        {
            "name": "rates",
            "keys": {"region": "string", "year": "integer"},
            "values": {"rate": "number", "label": "string"},
            "source": {
                "kind": "redis",
                "url": redis_url,
                "key": "slipway-test-rates:{region}:{year}",
                "fields": {"rate": "r"},
            },
        }
    )
    client = redis.Redis.from_url(redis_url)
    client.hset("slipway-test-rates:north:2024", mapping={"r": "1.5", "label": "N"})
    client.hset("slipway-test-rates:south:2024", mapping={"r": "2.0"})  # no label: a miss
    try:
        lookup = RedisLookupSource(spec, Secret(redis_url))
        found = lookup.fetch([("north", 2024), ("south", 2024), ("east", 2024)])
        lookup.close()
    finally:
        client.delete("slipway-test-rates:north:2024", "slipway-test-rates:south:2024")
        client.close()
    assert found == {("north", 2024): ("1.5", "N")}
    assert lookup.queries == 1


def test_a_malformed_redis_url_is_refused():
    spec = LookupSpec.model_validate(
        {
            "name": "r",
            "keys": {"k": "string"},
            "values": {"v": "number"},
            "source": {"kind": "redis", "url": "http://x", "key": "{k}"},
        }
    )
    with pytest.raises(InvalidInputError, match="malformed Redis URL"):
        open_lookup_source(spec)
