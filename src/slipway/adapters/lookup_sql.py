"""Lookup values from a SQL table or query (SQLAlchemy): SQLite by default, PostgreSQL at scale.

One ``SELECT ... WHERE key IN (...)`` per batch of keys (lists longer than ``max_keys`` are sent
in several queries). The database enforces the lookup's timeout too: PostgreSQL through
``statement_timeout`` and ``lock_timeout`` set on every connection, plus ``connect_timeout``;
SQLite through its busy timeout and a progress handler that interrupts a statement running past
the deadline. SQLite files are opened read-only: a lookup never creates or changes a database.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from slipway.core.errors import InvalidInputError
from slipway.core.settings import Secret, redact_url
from slipway.enrichment.keys import stored_value
from slipway.enrichment.source import Key, LookupSourceError, Row
from slipway.enrichment.spec import LookupSpec, SqlSource

MAX_KEYS_PER_QUERY = 5_000
_SQLITE_PROGRESS_STEPS = 1_000


class SqlLookupSource:
    def __init__(
        self, spec: LookupSpec, url: Secret, *, pool_size: int = 2, max_keys: int = MAX_KEYS_PER_QUERY
    ) -> None:
        if not isinstance(spec.source, SqlSource):
            raise InvalidInputError(f"lookup {spec.name!r} does not have a SQL source")
        self.spec = spec
        self.source = spec.source
        self.max_keys = max_keys
        self.queries = 0
        self._where = redact_url(url)
        self._url = _parse_url(url, spec.name)
        self._password = self._url.password
        self._deadline = threading.local()
        self.engine = self._create_engine(pool_size)
        self._statement = self._build_statement()

    # -- engine ---------------------------------------------------------------------------

    def _create_engine(self, pool_size: int) -> sa.Engine:
        timeout = self.spec.timeout_s
        backend = self._url.get_backend_name()
        options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": timeout}
        if backend == "sqlite":
            engine = sa.create_engine(
                _read_only(self._url, self.spec.name),
                connect_args={"timeout": timeout, "check_same_thread": False},
                poolclass=sa.pool.QueuePool,
                **options,
            )
            sa.event.listen(engine, "connect", self._sqlite_connect)
            return engine
        if backend == "postgresql":
            milliseconds = self.spec.timeout_ms
            limits = f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}"
            given = self._url.query.get("options")  # e.g. a search_path: kept, the limits added
            server_options = " ".join([*([given] if isinstance(given, str) else list(given or ())), limits])
            return sa.create_engine(
                self._url.set(drivername="postgresql+psycopg").difference_update_query(["options"]),
                connect_args={
                    "connect_timeout": max(2, math.ceil(timeout)),  # libpq's minimum is 2 s
                    "options": server_options,
                    "application_name": f"slipway-lookup-{self.spec.name}"[:63],
                },
                pool_recycle=1800,
                **options,
            )
        raise InvalidInputError(
            f"lookup {self.spec.name!r}: unsupported database {backend!r} in {self._where}; "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        )

    def _sqlite_connect(self, dbapi_connection: Any, _record: Any) -> None:
        # Interrupt a statement still running at the deadline of the fetch that started it.
        deadline = self._deadline
        dbapi_connection.set_progress_handler(
            lambda: int(time.monotonic() > getattr(deadline, "at", math.inf)), _SQLITE_PROGRESS_STEPS
        )

    def _build_statement(self) -> sa.TextClause | sa.Select[Any]:
        keys: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
        if self.source.query is not None:
            return sa.text(self.source.query).bindparams(keys)
        schema, _, name = (self.source.table or "").rpartition(".")
        names = [*self.spec.keys, *self.spec.values]
        table = sa.table(name, *(sa.column(self.source.column(n)) for n in names), schema=schema or None)
        key_columns = [table.c[self.source.column(n)] for n in self.spec.keys]
        selected = [table.c[self.source.column(n)].label(n) for n in names]
        condition = key_columns[0].in_(keys) if len(key_columns) == 1 else sa.tuple_(*key_columns).in_(keys)
        return sa.select(*selected).where(condition)

    # -- LookupSource ---------------------------------------------------------------------

    def fetch(self, keys: Sequence[Key]) -> dict[Key, Row]:
        found: dict[Key, Row] = {}
        if not keys:
            return found
        key_names, value_names = list(self.spec.keys), list(self.spec.values)
        self._deadline.at = time.monotonic() + self.spec.timeout_s
        try:
            with self.engine.connect() as connection:
                for chunk in _chunks(keys, self.max_keys):
                    parameters = [key[0] if len(key) == 1 else key for key in chunk]
                    self.queries += 1
                    result = connection.execute(self._statement, {"keys": parameters})
                    for row in result.mappings():
                        key = tuple(self._key_value(row, name) for name in key_names)
                        found[key] = tuple(row[name] for name in value_names)
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc
        finally:
            self._deadline.at = math.inf
        return found

    def _key_value(self, row: Any, name: str) -> Any:
        try:
            return stored_value(row[name], self.spec.keys[name])
        except KeyError:
            raise LookupSourceError(
                f"lookup {self.spec.name!r}: the query returns no column {name!r}; "
                f"select it by that name (e.g. 'SELECT ... AS {name}')"
            ) from None
        except (ValueError, TypeError):
            return row[name]  # a key that fits no request key simply never matches

    def ping(self) -> None:
        probe = self._statement
        try:
            with self.engine.connect() as connection:
                if isinstance(probe, sa.Select):
                    connection.execute(probe.where(sa.false()), {"keys": []}).all()
                else:
                    connection.execute(sa.text("SELECT 1")).all()
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        self.engine.dispose()

    def _error(self, exc: sa.exc.SQLAlchemyError) -> LookupSourceError:
        origin = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
        cause = lines[0] if lines else type(origin).__name__
        if self._password:
            cause = cause.replace(self._password, "***")
        return LookupSourceError(f"{self._where}: {cause}")


def _parse_url(url: str, name: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidInputError(
            f"lookup {name!r}: malformed database URL {redact_url(url)!r}; "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from exc


def _read_only(url: sa.URL, name: str) -> sa.URL:
    """The SQLite URL opened as a read-only URI: a missing file is an error, not a new database."""
    database = url.database or ""
    if database in {"", ":memory:"}:
        raise InvalidInputError(f"lookup {name!r}: the SQLite URL names no file; use sqlite:///PATH")
    if database.startswith("file:"):
        return url.update_query_dict({"uri": "true"})
    return url.set(database=f"file:{database}", query={**url.query, "mode": "ro", "uri": "true"})


def _chunks(keys: Sequence[Key], size: int) -> Iterator[Sequence[Key]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]
