"""Read a table from a SQL database for the gate's production windows (SQLAlchemy + pandas)."""

from __future__ import annotations

import difflib

import pandas as pd
import sqlalchemy as sa

from slipway.core.errors import InvalidInputError, StoreError
from slipway.core.settings import redact_url


class SqlTableReader:
    """``TableReader`` over any SQLAlchemy URL (SQLite file, PostgreSQL via psycopg, ...)."""

    def read_table(self, url: str, table: str, *, order_by: str | None = None) -> pd.DataFrame:
        shown = redact_url(url)
        try:
            engine = sa.create_engine(_driver(url))
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise InvalidInputError(f"malformed database URL {shown!r}: {exc}") from exc
        except ModuleNotFoundError as exc:
            raise StoreError(f"cannot read {shown}: the driver {exc.name} is not installed") from exc
        try:
            with engine.connect() as connection:
                found = sa.inspect(connection).get_table_names()
                if table not in found:
                    close = difflib.get_close_matches(table, found, n=1)
                    hint = f" did you mean {close[0]!r}?" if close else ""
                    raise InvalidInputError(
                        f"database {shown} has no table {table!r};{hint} "
                        f"tables: {', '.join(sorted(found)) or 'none'}"
                    )
                reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
                query = sa.select(reflected)
                if order_by is not None and order_by in reflected.c:
                    query = query.order_by(reflected.c[order_by])
                return pd.read_sql(query, connection)
        except sa.exc.SQLAlchemyError as exc:
            cause = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StoreError(f"cannot read table {table!r} from {shown}: {cause}") from exc
        finally:
            engine.dispose()


def _driver(url: str) -> str:
    """PostgreSQL URLs without a driver use psycopg 3, the driver slipway installs."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url
