"""Cut a stream of record batches into parts of exactly ``rows`` rows (the last may be shorter).

Parts are the unit of work, of commit and of ``--resume``: part ``i`` holds rows
``[i * rows, (i + 1) * rows)`` of the input, whatever block sizes the reader produced, so a rerun
over the same input cuts the same parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from slipway.core.errors import InvalidInputError

MAX_CHUNK_ROWS = 10_000_000


def check_chunk_rows(rows: int) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_CHUNK_ROWS:
        raise InvalidInputError(
            f"invalid chunk size {rows!r}: use a whole number of rows from 1 to {MAX_CHUNK_ROWS:,}"
        )


def fixed_chunks(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows, holding at most one part plus one batch in memory."""
    check_chunk_rows(rows)
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - held, batch.num_rows)
            pending.append(batch.slice(0, take))
            held += take
            batch = batch.slice(take)
            if held == rows:
                yield pa.Table.from_batches(pending)
                pending, held = [], 0
    if held:
        yield pa.Table.from_batches(pending)
