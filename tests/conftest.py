"""Fixtures for the real services tests talk to: PostgreSQL, Redis, and SQLite files.

A test that needs PostgreSQL or Redis is skipped when the server cannot be reached, unless
``CI=true``: there a missing service is a failure, so CI never passes by skipping. Tests that use
PostgreSQL or Redis fixtures get the ``postgres`` / ``redis`` marker automatically.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get("SLIPWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SLIPWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_server" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)


def _unavailable(service: str, reason: str) -> None:
    message = f"{service} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: start it, e.g. with .ci/run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server (libpq form)."""
    try:
        import psycopg
    except ImportError:
        _unavailable("PostgreSQL", "psycopg is not installed (pip install 'slipway[postgres]')")
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", f"{POSTGRES_ADMIN_URL}: {str(exc).strip()}")
    return POSTGRES_ADMIN_URL


@contextmanager
def fresh_postgres_database(server: str) -> Iterator[sa.URL]:
    """A new, uniquely named database on ``server``, dropped on exit (connections and all)."""
    import psycopg

    name = f"slipway_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server).set(drivername="postgresql+psycopg", database=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[sa.URL]:
    """One database for the test session; each test gets its own schema in it."""
    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def postgres_database_url(postgres_server: str) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database of the test's own, dropped after the test."""
    with fresh_postgres_database(postgres_server) as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_database: sa.URL) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh, empty schema (via ``search_path``), dropped after the test.

    Creating a schema takes milliseconds where creating a database takes a fifth of a second;
    a test that needs a whole database of its own uses ``postgres_database_url``.
    """
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(postgres_database, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield postgres_database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis server. It is shared: use unique key names in tests."""
    url = urlsplit(REDIS_URL)
    try:
        address = (url.hostname or "127.0.0.1", url.port or 6379)
        with socket.create_connection(address, timeout=3) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
    except OSError as exc:
        _unavailable("Redis", f"{REDIS_URL}: {exc}")
    if not reply.startswith(b"+PONG"):
        _unavailable("Redis", f"{REDIS_URL} answered {reply!r} to PING")
    return REDIS_URL


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def metadata_url(request: pytest.FixtureRequest) -> str:
    """A registry URL for each metadata backend: in memory, a SQLite file, a PostgreSQL database."""
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> str:
    """A registry URL for each SQL backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLAlchemy URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'registry.db'}"
