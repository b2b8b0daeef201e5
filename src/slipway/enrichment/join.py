"""Batch lookups: a join with the lookup table, not a query per row.

``fetch_lookup_table`` reads the table's rows for a set of keys (one query per few thousand keys)
into an Arrow table; ``join_lookup`` left-joins a batch's keys with it (pandas merge) and applies
the same policy as online scoring, so a row gets the same value and the same flag either way.

The local batch engine uses ``JoinLookupStage`` (a scoring ``enrich`` stage that fetches the
table for each chunk's distinct keys). A Spark engine can fetch the table once on the driver
for the distinct keys of the input, broadcast it, and give every partition
``JoinLookupStage.from_table(spec, table)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from slipway.core.flags import Flag
from slipway.enrichment.deadline import DeadlineRunner
from slipway.enrichment.keys import row_keys, typed_rows
from slipway.enrichment.online import READINESS_TIMEOUT_S
from slipway.enrichment.policy import FAILED, FOUND, MISS, NO_KEY, Resolved, resolve
from slipway.enrichment.source import Key, LookupSource, LookupSourceError
from slipway.enrichment.spec import LookupSpec
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

#: Column of a lookup table naming why a key's stored value is unusable (null when it is fine).
ERROR_COLUMN = "__lookup_error__"
_ARROW_TYPES = {"number": pa.float64(), "integer": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}
_ROW = "__row__"


def table_schema(spec: LookupSpec) -> pa.Schema:
    fields = [pa.field(name, _ARROW_TYPES[kind]) for name, kind in (*spec.keys.items(), *spec.values.items())]
    return pa.schema([*fields, pa.field(ERROR_COLUMN, pa.string())])


def fetch_lookup_table(spec: LookupSpec, source: LookupSource, keys: Iterable[Key]) -> pa.Table:
    """The lookup rows for ``keys``: key columns, value columns (declared types) and ERROR_COLUMN.

    Keys the source does not have are absent; a key whose stored value is null or not of the
    declared type is present with its values null and the reason in ERROR_COLUMN.
    """
    wanted = list(dict.fromkeys(keys))
    good, bad = typed_rows(spec.values, source.fetch(wanted) if wanted else {})
    rows = [(*key, *row, None) for key, row in good.items()]
    rows += [(*key, *(None for _ in spec.values), reason) for key, reason in bad.items()]
    schema = table_schema(spec)
    arrays = [pa.array(list(column), type=field.type) for field, column in _columns(rows, schema)]
    return pa.table(arrays, schema=schema)


def _columns(rows: list[tuple[Any, ...]], schema: pa.Schema) -> list[tuple[pa.Field, tuple[Any, ...]]]:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return list(zip(schema, columns, strict=True))


def join_lookup(
    spec: LookupSpec,
    keys: list[Key | None],
    table: pa.Table | None,
    *,
    error: str | None = None,
    placeholders: Mapping[str, Any] | None = None,
) -> Resolved:
    """Left-join the rows' keys (see ``keys.row_keys``) with ``table``; apply the miss/error policy.

    ``table`` is None with ``error`` set when the table could not be read: every row with a key
    then follows ``on_error``.
    """
    n_rows = len(keys)
    status = np.full(n_rows, MISS, dtype=np.int8)
    status[[index for index, key in enumerate(keys) if key is None]] = NO_KEY
    values = {name: np.empty(n_rows, dtype=object) for name in spec.values}
    reasons: dict[Key, str] = {}
    if table is None:
        status[status == MISS] = FAILED
    else:
        _merge(spec, keys, table, status, values, reasons)
    return resolve(
        spec,
        keys=keys,
        status=status,
        values=values,
        reasons=reasons,
        error=error,
        placeholders=placeholders,
    )


def join_frame(
    spec: LookupSpec, frame: pd.DataFrame, table: pa.Table, *, placeholders: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list[list[Flag]]]:
    """``frame`` with the lookup's value columns joined in, and each row's lookup flags."""
    columns = {name: frame[name].to_numpy() for name in spec.keys if name in frame.columns}
    keys = row_keys(spec.keys, columns, len(frame), lookup=spec.name)
    resolved = join_lookup(spec, keys, table, placeholders=placeholders)
    flags: list[list[Flag]] = [[] for _ in range(len(frame))]
    for row, flag in resolved.flags:
        flags[row].append(flag)
    return frame.assign(**resolved.columns), flags


def _merge(
    spec: LookupSpec,
    keys: list[Key | None],
    table: pa.Table,
    status: np.ndarray,
    values: dict[str, np.ndarray],
    reasons: dict[Key, str],
) -> None:
    names = list(spec.keys)
    present = [index for index, key in enumerate(keys) if key is not None]
    if not present:
        return
    left = pd.DataFrame([keys[index] for index in present], columns=names, dtype=object)
    left[_ROW] = present
    right = pd.DataFrame(
        {name: np.asarray(table.column(name).to_pylist(), dtype=object) for name in table.column_names}
    )
    joined = left.merge(right, on=names, how="inner", validate="many_to_one", sort=False)
    rows = joined[_ROW].to_numpy(dtype=np.int64)
    failed = joined[ERROR_COLUMN].notna().to_numpy()
    status[rows[~failed]] = FOUND
    status[rows[failed]] = FAILED
    for name in spec.values:
        values[name][rows] = joined[name].to_numpy(dtype=object)
    for key_values, reason in zip(
        joined.loc[failed, names].itertuples(index=False, name=None),
        joined.loc[failed, ERROR_COLUMN],
        strict=True,
    ):
        reasons[tuple(key_values)] = str(reason)


class JoinLookupStage:
    """A scoring ``enrich`` stage for batch engines: per batch, fetch the table rows for its
    distinct keys in one query (or use a table fetched beforehand) and join."""

    phase: Phase = "enrich"

    def __init__(
        self,
        spec: LookupSpec,
        source: LookupSource | None = None,
        *,
        table: pa.Table | None = None,
        placeholders: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if (source is None) == (table is None):
            raise ValueError("give a lookup source or a prefetched table, not both")
        self.spec = spec
        self.source = source
        self.table = table
        self.name = f"lookup:{spec.name}"
        self.provides = tuple(spec.values)
        self.requires = tuple(spec.keys)
        self.placeholders = dict(placeholders or {})
        self.timeout_s = timeout_s or spec.timeout_s
        self._runner = DeadlineRunner(workers=1, name=spec.name) if source is not None else None

    @classmethod
    def from_table(
        cls, spec: LookupSpec, table: pa.Table, *, placeholders: Mapping[str, Any] | None = None
    ) -> JoinLookupStage:
        return cls(spec, table=table, placeholders=placeholders)

    def apply(self, batch: Batch) -> None:
        keys = row_keys(self.spec.keys, batch.columns, batch.n_rows, lookup=self.spec.name)
        table, error = self.table, None
        if self.source is not None and self._runner is not None:
            source = self.source
            distinct = [key for key in dict.fromkeys(keys) if key is not None]
            try:
                table = self._runner.run(
                    lambda: fetch_lookup_table(self.spec, source, distinct), timeout_s=self.timeout_s
                )
            except LookupSourceError as exc:
                table, error = None, str(exc)
        resolved = join_lookup(self.spec, keys, table, error=error, placeholders=self.placeholders)
        batch.columns.update(resolved.columns)
        for row, flag in resolved.flags:
            batch.flag(row, flag)
        batch.notes.setdefault("lookups", {})[self.spec.name] = {
            "found": resolved.found,
            "missed": resolved.missed,
            "failed": resolved.failed,
            "error": error,
        }

    def check_reachable(self, *, timeout_s: float | None = None) -> None:
        """Raise LookupSourceError unless the source answers (a batch run checks before it starts)."""
        if self.source is None or self._runner is None:
            return
        deadline = timeout_s if timeout_s is not None else max(self.timeout_s, READINESS_TIMEOUT_S)
        self._runner.run(self.source.ping, timeout_s=deadline)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
        if self.source is not None:
            self.source.close()
