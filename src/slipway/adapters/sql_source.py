"""Rows to score from a SQL query (SQLite, PostgreSQL, any SQLAlchemy URL), streamed in batches.

The query runs once per read with a server-side cursor where the driver has one, and rows are
fetched ``batch_size`` at a time, so memory follows the batch size. Column types come from the
model's profile for features and from the first rows for other columns; every later batch is
built with those types, so all output parts share one schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.errors import InvalidInputError, StoreError
from slipway.core.settings import redact_url


class SqlQuerySource:
    """The result of ``query`` on the database at ``url``.

    Not replayable: a query's rows can change between two runs, so ``--resume`` refuses it.
    The fingerprint covers the database (password hidden) and the query text.
    """

    replayable = False

    def __init__(self, url: str, query: str) -> None:
        if not query.strip():
            raise InvalidInputError("empty query: give the SELECT whose rows are scored")
        self.location = redact_url(url)
        self.query = query
        try:
            self._engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise InvalidInputError(f"unusable database URL {self.location!r}: {exc}") from exc
        self._names: tuple[str, ...] | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        if self._names is None:
            with self._connected() as connection:
                result = connection.execute(sa.text(self.query))
                self._names = tuple(result.keys())
                result.close()
        return self._names

    def count_rows(self) -> int | None:
        return None

    def fingerprint(self) -> str:
        return sha256_hex(to_canonical_json({"database": self.location, "query": self.query}))

    def batches(
        self, columns: Sequence[str], *, batch_size: int, types: Mapping[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        fixed: dict[str, pa.DataType] = {name: types[name] for name in columns if name in types}
        with self._connected() as connection:
            result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(
                sa.text(self.query)
            )
            names = list(result.keys())
            positions = [names.index(name) for name in columns]
            while rows := result.fetchmany(batch_size):
                yield _record_batch(rows, columns, positions, fixed)

    def _connected(self) -> Any:
        return _Translated(self._engine, self.location)


def _record_batch(
    rows: Sequence[Any], columns: Sequence[str], positions: list[int], fixed: dict[str, pa.DataType]
) -> pa.RecordBatch:
    arrays = []
    for name, position in zip(columns, positions, strict=True):
        values = [row[position] for row in rows]
        try:
            array = pa.array(values, type=fixed.get(name), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidInputError(f"query column {name!r}: {exc}") from exc
        if name not in fixed and not pa.types.is_null(array.type):
            fixed[name] = array.type  # the first rows decide; later batches must agree
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=list(columns))


class _Translated:
    """A connection whose database errors become slipway errors naming the (redacted) database."""

    def __init__(self, engine: sa.Engine, location: str) -> None:
        self._engine = engine
        self._location = location
        self._connection: sa.Connection | None = None

    def __enter__(self) -> sa.Connection:
        try:
            self._connection = self._engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to the input database {self._location}: {_cause(exc)}") from exc
        return self._connection

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: object) -> None:
        if self._connection is not None:
            self._connection.close()
        self._engine.dispose()
        if isinstance(value, sa.exc.ProgrammingError | sa.exc.OperationalError):
            raise InvalidInputError(f"the query failed on {self._location}: {_cause(value)}") from value
        if isinstance(value, sa.exc.SQLAlchemyError):
            raise StoreError(
                f"reading the input database {self._location} failed: {_cause(value)}"
            ) from value


def _cause(exc: sa.exc.SQLAlchemyError) -> str:
    origin = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
    return lines[0] if lines else type(origin).__name__
