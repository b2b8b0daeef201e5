"""Where lookup values come from: the port the SQL and Redis adapters implement.

A key is a tuple of plain Python values, one per key column in the spec's order; a row is a
tuple of raw values, one per value column. ``fetch`` returns the rows of the keys that exist;
a key it does not return is a miss. A source enforces the spec's timeout on its own side too
(statement timeout, busy timeout, socket timeout), so a query the caller stopped waiting for
also ends on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from slipway.core.errors import StoreError

Key = tuple[Any, ...]
Row = tuple[Any, ...]


class LookupSourceError(StoreError):
    """A lookup source failed, timed out, or cannot be reached; rows follow the ``on_error`` policy."""


class LookupSource(Protocol):
    #: Queries (round trips) sent so far: tests and metrics check "one query per batch" with it.
    queries: int

    def fetch(self, keys: Sequence[Key]) -> dict[Key, Row]:
        """Rows for the keys that exist, in one round trip (large key lists may be chunked)."""
        ...

    def ping(self) -> None:
        """Raise LookupSourceError unless the source answers and has the declared table/columns."""
        ...

    def close(self) -> None: ...


class TableLookupSource:
    """A lookup table already in memory (a mapping of key to row): tests, and batch engines that
    loaded the table once."""

    def __init__(self, rows: Mapping[Key, Row]) -> None:
        self.rows = dict(rows)
        self.queries = 0

    def fetch(self, keys: Sequence[Key]) -> dict[Key, Row]:
        self.queries += 1
        return {key: self.rows[key] for key in keys if key in self.rows}

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
