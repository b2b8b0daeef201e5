"""From looked-up values to typed columns and row flags: the one place the miss/error policy lives.

Online lookups and batch joins both hand their per-row outcome here, so a row gets the same
values and the same flag whichever path scored it. Every row ends with a value in every value
column: the looked-up one, the policy's default, or, for a rejected row that never reaches the
model, a placeholder (the training median or most frequent category) that keeps the column's type.

Flags (``core.flags.Flag``, guard ``"lookup"``):

| code                   | when                                              | policy       |
|------------------------|---------------------------------------------------|--------------|
| ``lookup_miss``        | the source has no row for the key                 | ``on_miss``  |
| ``lookup_missing_key`` | a key column is null                              | ``on_miss``  |
| ``lookup_failed``      | timeout, unreachable source, or a stored value    | ``on_error`` |
|                        | that is null or not of the declared type          |              |

With a ``default`` policy the action is ``flag`` (the row is scored with the default and
annotated); with ``reject`` it is ``reject`` (the row is not scored; the message says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from slipway.core.flags import Action, Flag
from slipway.enrichment.keys import describe_key
from slipway.enrichment.source import Key
from slipway.enrichment.spec import LookupSpec, Policy

FOUND, MISS, NO_KEY, FAILED = 0, 1, 2, 3
_DTYPES = {"number": np.float64, "integer": np.int64, "boolean": np.bool_, "string": object}
_ZERO = {"number": 0.0, "integer": 0, "boolean": False, "string": ""}


@dataclass
class Resolved:
    columns: dict[str, np.ndarray]
    flags: list[tuple[int, Flag]] = field(default_factory=list)
    found: int = 0
    missed: int = 0
    failed: int = 0


def placeholder(spec: LookupSpec, column: str, placeholders: Mapping[str, Any]) -> Any:
    value = placeholders.get(column)
    return value if value is not None else _ZERO[spec.values[column]]


def resolve(
    spec: LookupSpec,
    *,
    keys: Sequence[Key | None],
    status: np.ndarray,
    values: Mapping[str, np.ndarray],
    reasons: Mapping[Key, str] | None = None,
    error: str | None = None,
    placeholders: Mapping[str, Any] | None = None,
) -> Resolved:
    """Typed value columns and flags for rows whose ``status`` is FOUND, MISS, NO_KEY or FAILED.

    ``values`` hold the looked-up values (already of the declared types, see ``typed_rows``),
    meaningful where FOUND. A FAILED row's reason is ``reasons[key]`` (a bad value for that key)
    or ``error`` (the source failed for the whole batch).
    """
    found = status == FOUND
    columns = {column: _column(values[column], kind, found) for column, kind in spec.values.items()}
    placeholders = placeholders or {}
    reasons = reasons or {}
    flags: list[tuple[int, Flag]] = []
    for row in np.flatnonzero(~found).tolist():
        code = int(status[row])
        policy = spec.error_policy if code == FAILED else spec.on_miss
        for column in spec.values:
            if policy.action == "default":
                columns[column][row] = policy.values[column]
            else:
                columns[column][row] = placeholder(spec, column, placeholders)
        key = keys[row]
        reason = reasons.get(key, error) if key is not None else error
        flags.append((row, _flag(spec, key, code, policy, reason)))
    return Resolved(
        columns=columns,
        flags=flags,
        found=int(found.sum()),
        missed=int(((status == MISS) | (status == NO_KEY)).sum()),
        failed=int((status == FAILED).sum()),
    )


def _column(values: np.ndarray, kind: str, found: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.empty(len(found), dtype=_DTYPES[kind])
    if found.all():
        out[:] = values
    elif found.any():
        out[found] = values[found]
    return out


def _flag(spec: LookupSpec, key: Key | None, code: int, policy: Policy, reason: str | None) -> Flag:
    names = tuple(spec.keys)
    if code == NO_KEY:
        name, what = "lookup_missing_key", f"{spec.name}: a key column is null ({', '.join(names)})"
    elif code == MISS:
        name, what = "lookup_miss", f"{spec.name} has no value for {describe_key(names, key)}"
    else:
        name, what = "lookup_failed", f"{spec.name} lookup failed for {describe_key(names, key)}: {reason}"
    detail: dict[str, Any] = {"lookup": spec.name}
    action: Action
    if policy.action == "default":
        used = " ".join(f"{column}={value!r}" for column, value in policy.values.items())
        message, action = f"{what}; used the default {used}", "flag"
        detail["defaults"] = dict(policy.values)
    else:
        message, action = f"{what}; row not scored", "reject"
    if code == FAILED and reason:
        detail["error"] = reason
    value: Any = None if key is None else (key[0] if len(key) == 1 else dict(zip(names, key, strict=True)))
    return Flag(
        guard="lookup",
        code=name,
        message=message,
        action=action,
        feature=names[0] if len(names) == 1 else None,
        value=value,
        detail=detail,
    )
