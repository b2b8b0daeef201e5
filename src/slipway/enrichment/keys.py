"""Key values: checked strictly when they come from a request, coerced when they come from a database.

Both sides end up as the same plain Python values (``str``, ``int``, ``float``, ``bool``), so a
key from a JSON request, a Parquet file and a database row hash and compare equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from slipway.core.errors import InvalidInputError
from slipway.enrichment.source import Key, Row

_DESCRIBE = {"number": "a number", "integer": "an integer", "string": "a string", "boolean": "true or false"}


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def request_value(value: Any, kind: str) -> Any:
    """A request's key value as a plain Python value, or ValueError when it is not of ``kind``."""
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        if kind == "number":
            return float(value)
        if isinstance(value, int) or value.is_integer():
            return int(value)
    raise ValueError(value)


def stored_value(value: Any, kind: str) -> Any:
    """A value read from a database or Redis as a plain Python value of ``kind`` (ValueError if not)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "boolean":
        return _boolean(value)
    if isinstance(value, str):
        value = value.strip()
    number = float(value) if isinstance(value, str | Decimal) else value
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError(value)
    if kind == "number":
        return float(number)
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(value)
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "t", "yes"}:
        return True
    if text in {"0", "false", "f", "no"}:
        return False
    raise ValueError(value)


def typed_rows(
    value_types: Mapping[str, str], fetched: Mapping[Key, Row]
) -> tuple[dict[Key, Row], dict[Key, str]]:
    """Convert fetched rows to the declared value types: (good rows, reason per key with a bad value)."""
    good: dict[Key, Row] = {}
    bad: dict[Key, str] = {}
    kinds = list(value_types.items())
    for key, row in fetched.items():
        converted = []
        for (column, kind), value in zip(kinds, row, strict=True):
            if is_missing(value):
                bad[key] = f"the source has no {column} for it (null)"
                break
            try:
                converted.append(stored_value(value, kind))
            except (ValueError, TypeError, OverflowError):
                bad[key] = f"the source's {column} {value!r} is not a {kind}"
                break
        else:
            good[key] = tuple(converted)
    return good, bad


def row_keys(
    key_types: Mapping[str, str], columns: Mapping[str, np.ndarray], n_rows: int, *, lookup: str
) -> list[Key | None]:
    """One key per row (None when a key column is null), checking each value's type.

    A key of the wrong type is the caller's mistake: InvalidInputError names the column, the row
    and the value, exactly like schema enforcement does for features.
    """
    per_column: list[list[Any]] = []
    for name, kind in key_types.items():
        if name not in columns:
            raise InvalidInputError(f"missing column {name!r}: the lookup {lookup!r} needs it as its key")
        values = columns[name]
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        checked: list[Any] = []
        for row, value in enumerate(items):
            if is_missing(value):
                checked.append(None)
                continue
            try:
                checked.append(request_value(value, kind))
            except ValueError:
                raise InvalidInputError(
                    f"column {name!r}, row {row}: expected {_DESCRIBE[kind]} (key of lookup {lookup!r}), "
                    f"got {value!r} ({type(value).__name__})"
                ) from None
        per_column.append(checked)
    if len(per_column) == 1:
        return [None if value is None else (value,) for value in per_column[0]]
    return [None if any(part is None for part in key) else key for key in zip(*per_column, strict=True)]


def describe_key(key_names: tuple[str, ...], key: Key | None) -> str:
    if key is None:
        return "a null key"
    return ", ".join(f"{name}={value!r}" for name, value in zip(key_names, key, strict=True))
