"""Engines for the registry database: connection settings, locks, migrations, error translation.

Two locks keep concurrent processes and hosts correct:

* the *migration lock*, held while Alembic upgrades a database to head, so eight processes
  opening a fresh database at once create its tables exactly once (PostgreSQL: a transaction-level
  advisory lock; SQLite: ``BEGIN IMMEDIATE``, which admits one writer at a time);
* the *write lock*, taken first by every write transaction, so the audit chain stays linear and
  version numbers contiguous (PostgreSQL: ``SELECT ... FOR UPDATE`` on the ``audit_head`` row;
  SQLite: ``BEGIN IMMEDIATE`` with a generous busy timeout, in WAL mode so readers never wait).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from slipway.adapters.sql_tables import VERSION_TABLE
from slipway.core.errors import ConflictError, StoreError
from slipway.core.settings import redact_url

MIGRATIONS = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_S = 60
WRITE_OPTION = "slipway_write"
_PG_MIGRATION_LOCK = 0x736C_6970_7761_79  # "slipway": any constant shared by all processes
_ALEMBIC_LOCK = threading.Lock()  # Alembic's ``context`` is module state: one upgrade at a time
_URL_HELP = "check SLIPWAY_REGISTRY_URL"


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine for ``url`` with slipway's connection settings (timeouts, SQLite pragmas)."""
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        )
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver, so ``_sqlite_begin`` decides how each one starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def begin(engine: sa.Engine, *, write: bool) -> Iterator[sa.Connection]:
    """A connection inside a transaction; on SQLite a write one already holds the write lock."""
    with engine.connect() as connection:
        if write:
            connection.execution_options(**{WRITE_OPTION: True})
        elif engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def upgrade_to_head(engine: sa.Engine) -> None:
    """Bring the database to the newest revision, once, however many processes try at once."""
    config = alembic_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as connection:
        if _current_revisions(connection) == heads:
            return
    with _ALEMBIC_LOCK, begin(engine, write=True) as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        if _current_revisions(connection) == heads:
            return  # another process upgraded it while this one waited for the lock
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built in code: no ``alembic.ini`` is needed or shipped."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s")  # file name = revision id, e.g. 0001_registry
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _current_revisions(connection: sa.Connection) -> set[str]:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return set(context.get_current_heads())


def translate_error(exc: sa.exc.SQLAlchemyError, url: sa.URL) -> StoreError | ConflictError:
    """The slipway error for a database failure: the redacted URL, the cause, and what to do."""
    where = redact_url(url.render_as_string(hide_password=False))
    cause = _cause(exc, url.password)
    if isinstance(exc, sa.exc.IntegrityError):
        return ConflictError(f"registry {where} refused a write: {cause}")
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return StoreError(f"cannot use the registry at {where}: {cause}; {_URL_HELP}")
    return StoreError(f"registry {where} failed: {cause}")


def _cause(exc: sa.exc.SQLAlchemyError, password: str | None) -> str:
    origin = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
    cause = lines[0] if lines else type(origin).__name__
    return cause.replace(password, "***") if password else cause
