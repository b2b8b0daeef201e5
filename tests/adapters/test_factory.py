"""Opening stores from URLs, and what a user sees when a URL is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipway.adapters.factory import open_metadata_store
from slipway.adapters.memory_metadata import InMemoryMetadataStore
from slipway.adapters.sql_metadata import SqlMetadataStore
from slipway.core.errors import InvalidInputError, StoreError


def test_memory_url_opens_an_in_memory_store() -> None:
    assert isinstance(open_metadata_store("memory://"), InMemoryMetadataStore)


def test_sqlite_url_creates_the_folder_of_the_file(tmp_path: Path) -> None:
    store = open_metadata_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'registry.db'}")
    assert isinstance(store, SqlMetadataStore)
    store.close()
    assert (tmp_path / "a" / "b" / "registry.db").is_file()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg_3(postgres_url: str, scheme: str) -> None:
    store = open_metadata_store(postgres_url.replace("postgresql+psycopg", scheme, 1))
    assert isinstance(store, SqlMetadataStore)
    assert store.engine.dialect.driver == "psycopg"
    store.close()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://root@localhost/registry", "unsupported registry URL"),
        ("registry.db", "unsupported registry URL"),
        ("sqlite://", "names no file"),
        ("sqlite:///:memory:", "names no file"),
        ("postgresql://u:p@host:port/db", "malformed registry URL"),
    ],
    ids=["unknown-scheme", "no-scheme", "sqlite-in-memory", "sqlite-memory-file", "bad-port"],
)
def test_unusable_registry_urls(url: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        open_metadata_store(url)


def check_store_error(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match) as raised:
        open_metadata_store(url)
    message = str(raised.value)
    assert "s3cret" not in message
    assert "postgres:***@127.0.0.1" in message
    assert "check SLIPWAY_REGISTRY_URL" in message


def test_unreachable_registry_raises_store_error() -> None:
    check_store_error("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/x", "Connection refused")


@pytest.mark.postgres
def test_missing_database_raises_store_error(postgres_server: str) -> None:
    url = "postgresql://postgres:s3cret@127.0.0.1:5432/slipway_no_such_db"
    check_store_error(url, 'database "slipway_no_such_db" does not exist')


def test_a_registry_file_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the registry folder"):
        open_metadata_store(f"sqlite:///{tmp_path / 'file' / 'sub' / 'registry.db'}")


@pytest.mark.postgres
def test_a_registry_that_goes_away_raises_store_error(
    postgres_server: str, postgres_database_url: str
) -> None:
    import psycopg
    import sqlalchemy as sa

    store = open_metadata_store(postgres_database_url)
    name = sa.make_url(postgres_database_url).database
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    with pytest.raises(StoreError, match="cannot use the registry at postgresql"):
        store.audit_head()
    store.close()
