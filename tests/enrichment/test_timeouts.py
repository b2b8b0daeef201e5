"""A lookup database that is blocked, paused or stopped mid-test costs at most the timeout, and rows
are answered per the on_error policy; nothing hangs and stuck queries do not pile up.

The bounds asserted here are correctness bounds ("did not wait for the lock to be released"),
with a margin of seconds for a loaded machine, not performance figures.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import numpy as np
import pytest

from slipway.adapters.lookup_sources import open_lookup_source
from slipway.enrichment.deadline import DeadlineRunner
from slipway.enrichment.online import LookupStage
from slipway.enrichment.source import LookupSourceError
from slipway.enrichment.spec import LookupSpec
from slipway.examples import apartments
from slipway.scoring.batch import Batch

ZIP, PRICE = apartments.LOOKUP_KEY, apartments.LOOKUP_VALUE

TIMEOUT_MS = 300
#: Whatever the load on the machine, an answer within this is "did not wait for the blockage".
BOUND_S = TIMEOUT_MS / 1000 + 2.0


def timed_apply(stage, zip_codes):
    batch = Batch(columns={ZIP: np.asarray(zip_codes, dtype=object)}, n_rows=len(zip_codes))
    started = time.monotonic()
    stage.apply(batch)
    return batch, time.monotonic() - started


def assert_answered_per_on_error(batch, row=0):
    default = apartments.lookup()["on_error"]["values"][PRICE]
    assert batch.columns[PRICE][row] == default
    (flag,) = batch.flags[row]
    assert flag.code == "lookup_failed" and flag.action == "flag"
    assert not batch.rejected[row]
    return flag


def assert_timed_out(flag, server_message):
    """The source's own timeout and the client deadline are equal: either may fire first."""
    error = flag.detail["error"]
    assert server_message in error or f"no answer within {TIMEOUT_MS} ms" in error, error


@pytest.fixture
def open_stage():
    stages = []

    def make(source, **overrides):
        spec = source.spec(timeout_ms=TIMEOUT_MS, **overrides)
        stage = LookupStage(spec, open_lookup_source(spec))
        stages.append(stage)
        return stage

    yield make
    for stage in stages:
        stage.close()


def test_sqlite_locked_by_another_writer(open_stage, sqlite_zip):
    stage = open_stage(sqlite_zip)
    timed_apply(stage, ["75001"])  # warm: 75001 is now cached
    path = sqlite_zip.url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        batch, elapsed = timed_apply(stage, ["75002", "75001"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert elapsed < BOUND_S
    flag = assert_answered_per_on_error(batch)
    assert_timed_out(flag, "database is locked")
    assert not batch.flags[1], "a cached key is still answered while the database is locked"
    after, _ = timed_apply(stage, ["75002"])
    assert not after.flags[0], "failures are not cached: the next batch asks again"


@pytest.mark.postgres
def test_postgres_table_locked_by_another_transaction(open_stage, postgres_zip):
    import psycopg

    stage = open_stage(postgres_zip)
    timed_apply(stage, ["75001"])
    holder = psycopg.connect(postgres_zip.url.replace("postgresql+psycopg", "postgresql"))
    holder.execute("LOCK TABLE zip_prices IN ACCESS EXCLUSIVE MODE")
    try:
        batch, elapsed = timed_apply(stage, ["75002"])
        time.sleep(TIMEOUT_MS / 1000 * 2)
        assert stage.queries_running == 0, (
            "the server cancelled the statement (lock_timeout): nothing piles up"
        )
    finally:
        holder.rollback()
        holder.close()
    assert elapsed < BOUND_S
    assert_answered_per_on_error(batch)
    after, _ = timed_apply(stage, ["75002"])
    assert not after.flags[0]


@pytest.mark.postgres
def test_postgres_database_stopped_mid_test(open_stage, postgres_zip_database, postgres_server):
    import psycopg
    import sqlalchemy as sa

    stage = open_stage(postgres_zip_database)
    timed_apply(stage, ["75001"])
    name = sa.make_url(postgres_zip_database.url).database
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    batch, elapsed = timed_apply(stage, ["75002"])
    assert elapsed < BOUND_S
    assert_answered_per_on_error(batch)
    with pytest.raises(LookupSourceError, match=r"127\.0\.0\.1"):
        stage.check_reachable()


@pytest.mark.redis
def test_redis_paused_mid_test(open_stage, redis_zip):
    import redis

    stage = open_stage(redis_zip)
    timed_apply(stage, ["75001"])
    admin = redis.Redis.from_url(redis_zip.url)
    # The server is shared with other tests: pause it briefly (Redis 7.0 also pauses UNPAUSE itself).
    admin.execute_command("CLIENT", "PAUSE", str(TIMEOUT_MS * 3), "ALL")
    try:
        batch, elapsed = timed_apply(stage, ["75002"])
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    assert elapsed < BOUND_S
    flag = assert_answered_per_on_error(batch)
    assert_timed_out(flag, "TimeoutError")
    after, _ = timed_apply(stage, ["75002"])
    assert not after.flags[0]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "source",
    [
        {"kind": "sql", "table": "zip_prices", "url": "postgresql+psycopg://postgres@127.0.0.1:{port}/x"},
        {"kind": "redis", "key": "zip:{zip_code}", "url": "redis://127.0.0.1:{port}/0"},
    ],
    ids=["postgres", "redis"],
)
def test_a_server_that_is_not_running(source):
    port = free_port()
    spec = LookupSpec.model_validate(
        {
            **apartments.lookup(),
            "timeout_ms": TIMEOUT_MS,
            "source": {**source, "url": source["url"].format(port=port)},
        }
    )
    stage = LookupStage(spec, open_lookup_source(spec))
    try:
        batch, elapsed = timed_apply(stage, ["75001", "75002"])
        with pytest.raises(LookupSourceError, match=str(port)):
            stage.check_reachable()
    finally:
        stage.close()
    assert elapsed < BOUND_S
    assert_answered_per_on_error(batch, 0)
    assert_answered_per_on_error(batch, 1)


class StuckSource:
    """A source whose queries hang until released: the case no server-side timeout covers."""

    def __init__(self):
        self.release = threading.Event()
        self.queries = 0

    def fetch(self, keys):
        self.queries += 1
        self.release.wait(30)
        return dict.fromkeys(keys, (10000.0,))

    def ping(self):
        self.release.wait(30)

    def close(self):
        self.release.set()


def test_stuck_queries_never_exceed_the_workers_and_the_stage_recovers():
    spec = LookupSpec.model_validate({**apartments.lookup(), "timeout_ms": 100})
    source = StuckSource()
    stage = LookupStage(spec, source, workers=2)
    try:
        for zip_code in ("75001", "75002", "75003", "75004", "75005"):
            batch, elapsed = timed_apply(stage, [zip_code])
            assert_answered_per_on_error(batch)
            assert elapsed < BOUND_S
            assert stage.queries_running <= 2
        assert source.queries == 2, "once both workers are stuck, no new query is started"
        assert "still running past their deadline" in batch.flags[0][0].detail["error"]
        source.release.set()
        deadline = time.monotonic() + 10
        while stage.queries_running and time.monotonic() < deadline:
            time.sleep(0.01)
        recovered, _ = timed_apply(stage, ["75006"])
        assert recovered.columns[PRICE][0] == 10_000.0 and not recovered.flags[0]
    finally:
        stage.close()


def test_a_closed_runner_refuses_new_calls():
    runner = DeadlineRunner(workers=1)
    runner.close()
    with pytest.raises(LookupSourceError, match="closed"):
        runner.run(lambda: 1, timeout_s=0.1)
