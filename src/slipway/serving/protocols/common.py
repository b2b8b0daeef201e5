"""Shapes shared by the protocols: JSON decoding, records and columns, row limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from slipway.serving.errors import MalformedRequestError, PayloadTooLargeError, RequestError

RawColumns = dict[str, Sequence[Any] | np.ndarray]


@dataclass(slots=True)
class Parsed:
    columns: RawColumns
    n_rows: int
    #: Protocol specifics the renderer needs (v2: request id, requested outputs).
    options: dict[str, Any] = field(default_factory=dict)


def decode_json(body: bytes) -> Any:
    if not body:
        raise MalformedRequestError("empty request body: send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequestError(f"malformed JSON: {exc}") from None


def json_object(value: Any, *, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedRequestError(f"{what} must be a JSON object, got {_json_type(value)}", field=None)
    return value


def check_rows(n_rows: int, max_rows: int, *, field: str | None = None) -> None:
    if n_rows > max_rows:
        raise PayloadTooLargeError(
            f"{n_rows} rows in one request; this server takes at most {max_rows}: split the request"
        )
    if n_rows == 0:
        raise RequestError("no rows to score: send at least one record", field=field)


def from_records(records: Any, *, field: str, max_rows: int) -> Parsed:
    """Records (a list of objects, or one object) as columns; every record has the same keys."""
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise RequestError(
            f"{field} must be a list of objects (or one object), got {_json_type(records)}", field=field
        )
    check_rows(len(records), max_rows, field=field)
    first = records[0]
    if not isinstance(first, dict):
        raise RequestError(
            f"{field}[0] must be an object of column values, got {_json_type(first)}", field=field
        )
    if len(records) == 1:
        return Parsed({key: [value] for key, value in first.items()}, 1)
    keys = first.keys()
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise RequestError(
                f"{field}[{index}] must be an object of column values, got {_json_type(record)}", field=field
            )
        if record.keys() != keys:
            differing = sorted(set(keys) ^ set(record))[0]
            raise RequestError(
                f"{field}[{index}]: its columns differ from {field}[0]'s (see column {differing!r}); "
                "every record needs the same columns",
                field=differing,
            )
    return Parsed({key: [record[key] for record in records] for key in keys}, len(records))


def from_columns(columns: Any, *, field: str, max_rows: int) -> Parsed:
    """An object of column name -> list of values, all lists of one length."""
    if not isinstance(columns, dict):
        raise RequestError(
            f"{field} must be an object of column name -> list of values, got {_json_type(columns)}",
            field=field,
        )
    if not columns:
        raise RequestError(f"{field} is empty: send the model's columns", field=field)
    lengths = set()
    for name, values in columns.items():
        if not isinstance(values, list):
            raise RequestError(
                f"column {name!r}: expected a list of values, got {_json_type(values)}", field=name
            )
        lengths.add(len(values))
    if len(lengths) > 1:
        raise RequestError(f"{field}: the columns have different lengths {sorted(lengths)}", field=field)
    n_rows = lengths.pop()
    check_rows(n_rows, max_rows, field=field)
    return Parsed(dict(columns), n_rows)


def from_split(split: Any, *, field: str, max_rows: int) -> Parsed:
    """Pandas' ``split`` orientation: ``{"columns": [...], "data": [[...], ...]}``."""
    split = json_object(split, what=field)
    names, data = split.get("columns"), split.get("data")
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise RequestError(f"{field}.columns must be a list of column names", field=f"{field}.columns")
    if len(set(names)) != len(names):
        raise RequestError(f"{field}.columns names a column twice", field=f"{field}.columns")
    if not isinstance(data, list):
        raise RequestError(f"{field}.data must be a list of rows", field=f"{field}.data")
    check_rows(len(data), max_rows, field=f"{field}.data")
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(names):
            raise RequestError(
                f"{field}.data[{index}] must be a list of {len(names)} values (one per column)",
                field=f"{field}.data",
            )
    return Parsed({name: [row[i] for row in data] for i, name in enumerate(names)}, len(data))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def rows_of(scored: Any, start: int, stop: int) -> list[dict[str, Any]]:
    return [scored.row(index) for index in range(start, stop)]
