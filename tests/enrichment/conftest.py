"""The apartments zip table in each real lookup source: a SQLite file, a PostgreSQL database, Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.enrichment.artifact import LookupsStep
from slipway.enrichment.spec import LookupSpec
from slipway.examples import apartments

ZIP = apartments.LOOKUP_KEY
PRICE = apartments.LOOKUP_VALUE


@dataclass(frozen=True)
class ZipSource:
    """Where the zip table lives: the spec's ``source`` block and the URL to give it."""

    kind: str
    source: dict[str, Any]
    url: str

    def spec(self, **overrides: Any) -> LookupSpec:
        """The apartments lookup reading from this source, with the URL inline (tests only).

        The timeout is generous (a cold connection on a loaded machine is slow) except where a
        test sets its own to show what a blocked source costs.
        """
        data = apartments.lookup(timeout_ms=5_000)
        data["source"] = {**self.source, "url": self.url}
        data.update(overrides)
        return LookupSpec.model_validate(data)


def write_postgres_zip_table(url: str, prices: pd.DataFrame) -> None:
    import sqlalchemy as sa

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


def write_redis_zip_hashes(url: str, prefix: str, prices: pd.DataFrame) -> None:
    import redis

    client = redis.Redis.from_url(url)
    with client.pipeline() as pipe:
        for zip_code, price in zip(prices[ZIP], prices[PRICE], strict=True):
            pipe.hset(f"{prefix}:{zip_code}", mapping={PRICE: str(float(price))})
        pipe.execute()
    client.close()


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """Train and predict on one OpenMP thread: on a loaded 2-core machine, OpenMP threads spinning
    against each other made a 60-iteration HistGradientBoosting fit take 20 s instead of 1 s."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def zip_prices() -> pd.DataFrame:
    return apartments.zip_prices()


@pytest.fixture
def sqlite_zip(tmp_path, zip_prices) -> ZipSource:
    url = apartments.write_zip_table(tmp_path / "zip.db", zip_prices)
    return ZipSource("sqlite", {"kind": "sql", "table": "zip_prices"}, url)


@pytest.fixture
def postgres_zip(postgres_url, zip_prices) -> ZipSource:
    """The zip table in a schema of its own (the URL sets the search_path)."""
    write_postgres_zip_table(postgres_url, zip_prices)
    return ZipSource("postgres", {"kind": "sql", "table": "zip_prices"}, postgres_url)


@pytest.fixture
def postgres_zip_database(postgres_database_url, zip_prices) -> ZipSource:
    """The zip table in a database of its own, for tests that stop the database."""
    write_postgres_zip_table(postgres_database_url, zip_prices)
    return ZipSource("postgres", {"kind": "sql", "table": "zip_prices"}, postgres_database_url)


@pytest.fixture
def redis_zip(redis_url, zip_prices) -> Iterator[ZipSource]:
    import redis

    prefix = f"slipway-test-{uuid.uuid4().hex[:12]}:zip"
    write_redis_zip_hashes(redis_url, prefix, zip_prices)
    yield ZipSource("redis", {"kind": "redis", "key": prefix + ":{zip_code}"}, redis_url)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def zip_source(request: pytest.FixtureRequest) -> ZipSource:
    """The zip table in each kind of lookup source."""
    return request.getfixturevalue(f"{request.param}_zip")


@pytest.fixture(scope="session")
def lookup_artifact(tmp_path_factory, apartments_model, apartments_data) -> BuiltArtifact:
    """The apartments model with its zip-code lookup declared (no compiled runtime: native scoring)."""
    spec = BuildSpec(
        name=apartments.NAME,
        train=apartments_data.train,
        validation=apartments_data.validation,
        target=apartments.TARGET,
        features=apartments.FEATURES,
    )
    return build_artifact(
        apartments_model,
        spec,
        output=tmp_path_factory.mktemp("artifacts") / "apartments-lookup",
        steps=[LookupsStep([apartments.lookup()])],
    )


@pytest.fixture(scope="session")
def loaded_lookup_artifact(lookup_artifact) -> LoadedArtifact:
    return load_artifact(lookup_artifact.path)


@pytest.fixture
def requests_frame(apartments_data) -> Callable[[int], pd.DataFrame]:
    """Holdout apartments as requests send them: the zip code, not its price."""

    def make(rows: int) -> pd.DataFrame:
        return (
            apartments_data.holdout.drop(columns=[PRICE, apartments.TARGET]).head(rows).reset_index(drop=True)
        )

    return make
