"""Lookups from real SQLite, PostgreSQL and Redis through the HTTP server, and a lookup database
blocked, paused or stopped mid-test: answered per the on_error policy within the timeout, and
readiness says the lookup is down until it is back.

Bounds are correctness bounds ("did not wait for the blockage"), with seconds of margin for a
loaded machine, not performance figures.
"""

from __future__ import annotations

import time
import uuid

import pytest
import yaml

from slipway.examples import apartments
from slipway.serving.config import ServeConfig
from support.live_server import APARTMENT

ZIP, PRICE = apartments.LOOKUP_KEY, apartments.LOOKUP_VALUE
TIMEOUT_MS = 300
BOUND_S = TIMEOUT_MS / 1000 + 2.0
V1 = "/v1/models/apartments/predict"
MEDIAN_PRICE = apartments.lookup()["on_error"]["values"][PRICE]


def write_postgres_zip_table(url: str) -> None:
    import sqlalchemy as sa

    prices = apartments.zip_prices()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"CREATE TABLE zip_prices ({ZIP} TEXT PRIMARY KEY, {PRICE} DOUBLE PRECISION)")
        )
        connection.execute(
            sa.text("INSERT INTO zip_prices VALUES (:zip, :price)"),
            [{"zip": z, "price": float(p)} for z, p in zip(prices[ZIP], prices[PRICE], strict=True)],
        )
    engine.dispose()


def postgres_lookup(url: str) -> list[dict]:
    return [
        {
            "name": "zip_prices",
            "timeout_ms": TIMEOUT_MS,
            "source": {"kind": "sql", "url": url, "table": "zip_prices"},
        }
    ]


@pytest.fixture
def redis_zip(redis_url):
    import redis

    prefix = f"slipway-serve-{uuid.uuid4().hex[:12]}:zip"
    client = redis.Redis.from_url(redis_url)
    prices = apartments.zip_prices()
    for zip_code, price in zip(prices[ZIP], prices[PRICE], strict=True):
        client.hset(f"{prefix}:{zip_code}", mapping={PRICE: str(float(price))})
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def expected_price(zip_code: str) -> float:
    prices = apartments.zip_prices().set_index(ZIP)[PRICE]
    return float(prices[zip_code])


def score(server, zip_code: str):
    started = time.monotonic()
    with server.client() as client:
        response = client.post(V1, json={"records": [{**APARTMENT, ZIP: zip_code}]})
    return response, time.monotonic() - started


def assert_answered_per_on_error(response):
    assert response.status_code == 200, response.text
    (row,) = response.json()["predictions"]
    assert row["rejected"] is False and row["prediction"] is not None
    (flag,) = row["flags"]
    assert flag["code"] == "lookup_failed" and flag["action"] == "flag"
    assert flag["detail"]["defaults"] == {PRICE: MEDIAN_PRICE}


def ready(server) -> tuple[int, dict]:
    with server.client() as client:
        response = client.get("/readyz")
    return response.status_code, response.json()


def test_sqlite_lookup_through_the_serve_command(
    serve_process, apartments_served, zip_db, tmp_path, apartments_model
):
    """`slipway serve ARTIFACT` with the zip table's URL in the environment, as deployed."""
    process = serve_process(str(apartments_served.path), env={apartments.ZIP_DB_URL_ENV: zip_db})
    import httpx

    answer = httpx.post(f"{process.url}{V1}", json={"records": [APARTMENT]}, timeout=30).json()
    ready_body = httpx.get(f"{process.url}/readyz", timeout=30).json()
    assert ready_body["lookups"] == {"zip_prices": "ok"} and ready_body["warmed"] is True
    assert answer["predictions"][0]["flags"] == []
    import pandas as pd

    row = pd.DataFrame([{**{k: v for k, v in APARTMENT.items() if k != ZIP}, PRICE: expected_price("75004")}])
    native = float(apartments_model.predict(row[list(apartments.FEATURES)])[0])
    assert answer["predictions"][0]["prediction"] == pytest.approx(native, rel=1e-4)


def test_lookups_file_of_the_serve_command_points_at_postgres(
    serve_process, apartments_served, postgres_url, tmp_path
):
    write_postgres_zip_table(postgres_url)
    lookups = tmp_path / "lookups.yaml"
    lookups.write_text(yaml.safe_dump(postgres_lookup(postgres_url)))
    process = serve_process(str(apartments_served.path), "--lookups", str(lookups))
    import httpx

    response = httpx.post(f"{process.url}{V1}", json={"records": [APARTMENT]}, timeout=30)
    assert response.status_code == 200 and response.json()["predictions"][0]["flags"] == []


@pytest.mark.postgres
def test_postgres_table_locked_mid_test(serve_app, apartments_served, postgres_url):
    import psycopg

    write_postgres_zip_table(postgres_url)
    server = serve_app(
        apartments_served.path, lookups=postgres_lookup(postgres_url), config=ServeConfig(readiness_ttl_s=0)
    )
    assert score(server, "75001")[0].json()["predictions"][0]["flags"] == []
    holder = psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"))
    holder.execute("LOCK TABLE zip_prices IN ACCESS EXCLUSIVE MODE")
    try:
        blocked, elapsed = score(server, "75002")
        cached, _ = score(server, "75001")
        status, body = ready(server)
    finally:
        holder.rollback()
        holder.close()
    assert elapsed < BOUND_S
    assert_answered_per_on_error(blocked)
    assert cached.json()["predictions"][0]["flags"] == [], "a cached key is answered during the lock"
    assert status == 503 and body["lookups"]["zip_prices"].startswith("error")
    after, _ = score(server, "75002")
    assert after.json()["predictions"][0]["flags"] == [], "failures are not cached"
    assert ready(server)[0] == 200


@pytest.mark.postgres
def test_postgres_database_stopped_mid_test(
    serve_app, apartments_served, postgres_database_url, postgres_server
):
    import psycopg
    import sqlalchemy as sa

    write_postgres_zip_table(postgres_database_url)
    server = serve_app(
        apartments_served.path,
        lookups=postgres_lookup(postgres_database_url),
        config=ServeConfig(readiness_ttl_s=0),
    )
    assert score(server, "75001")[0].status_code == 200
    name = sa.make_url(postgres_database_url).database
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    response, elapsed = score(server, "75003")
    assert elapsed < BOUND_S
    assert_answered_per_on_error(response)
    assert ready(server)[0] == 503
    with server.client() as client:
        metrics = client.get("/metrics").text
    assert 'slipway_lookup_failures_total{lookup="zip_prices"' in metrics


@pytest.mark.redis
def test_redis_lookup_and_redis_paused_mid_test(serve_app, apartments_served, redis_url, redis_zip):
    import redis

    lookup = [
        {
            "name": "zip_prices",
            "timeout_ms": TIMEOUT_MS,
            "source": {"kind": "redis", "url": redis_url, "key": redis_zip + ":{zip_code}"},
        }
    ]
    server = serve_app(apartments_served.path, lookups=lookup)
    found, _ = score(server, "75001")
    assert found.json()["predictions"][0]["flags"] == []
    missing, _ = score(server, "99999")
    assert missing.json()["predictions"][0]["rejected"] is True
    admin = redis.Redis.from_url(redis_url)
    # The server is shared with other tests: pause it only briefly.
    admin.execute_command("CLIENT", "PAUSE", str(TIMEOUT_MS * 4), "ALL")
    try:
        paused, elapsed = score(server, "75002")
    finally:
        admin.close()
    assert elapsed < BOUND_S
    assert_answered_per_on_error(paused)
    time.sleep(TIMEOUT_MS * 4 / 1000)
    assert score(server, "75002")[0].json()["predictions"][0]["flags"] == []
