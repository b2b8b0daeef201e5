"""Input enforcement: turn request or file columns into typed numpy arrays, or say exactly why not.

The schema comes from the artifact's training profile. Checks are strict by default: a missing
column, an unexpected column, a value of the wrong type, or a null where the training data had
none is an InvalidInputError naming the column, the row and the value. Columns are numpy
arrays, not a DataFrame: building a DataFrame costs more than an ONNX prediction of one row.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from slipway.core.errors import InvalidInputError
from slipway.core.profile import DataProfile

Columns = dict[str, np.ndarray]
ExtraPolicy = Literal["reject", "ignore"]
_NUMBER_TYPES = (int, float, np.integer, np.floating)
_PLAIN_NUMBERS = frozenset((int, float))
_LIST = frozenset((list,))
_FIRST = operator.itemgetter(0)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    kind: str  # a profile Kind, or "any" when the artifact has no profile
    nullable: bool = True

    def describe(self) -> str:
        return {
            "number": "a number",
            "integer": "an integer",
            "boolean": "true or false",
            "category": "a string",
            "string": "a string",
            "datetime": "an ISO 8601 time",
        }.get(self.kind, "a value")


@dataclass(frozen=True, slots=True)
class InputSchema:
    columns: tuple[ColumnSpec, ...]

    @classmethod
    def from_profile(cls, profile: DataProfile) -> InputSchema:
        return cls(tuple(ColumnSpec(f.name, f.kind, f.nullable) for f in profile.features))

    @classmethod
    def untyped(cls, features: Iterable[str]) -> InputSchema:
        return cls(tuple(ColumnSpec(name, "any") for name in features))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def without(self, names: Iterable[str]) -> InputSchema:
        dropped = set(names)
        return InputSchema(tuple(c for c in self.columns if c.name not in dropped))

    def to_json_schema(self) -> dict[str, Any]:
        """A JSON Schema for one record, used in the OpenAPI document."""
        kinds = {
            "number": "number",
            "integer": "integer",
            "boolean": "boolean",
            "category": "string",
            "string": "string",
            "datetime": "string",
        }
        properties: dict[str, Any] = {}
        for column in self.columns:
            kind = kinds.get(column.kind)
            entry: dict[str, Any] = {"type": [kind, "null"] if column.nullable else kind} if kind else {}
            properties[column.name] = entry
        return {"type": "object", "properties": properties, "required": list(self.names)}


def records_to_columns(records: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[Any]], int]:
    """Pivot JSON records into columns; every record must have the same keys."""
    if not records:
        raise InvalidInputError("no rows to score: send at least one record")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInputError(
                f"row {index}: expected an object of column values, got {type(record).__name__}"
            )
    keys = list(records[0])
    key_set = set(keys)
    for index, record in enumerate(records):
        if set(record) != key_set:
            missing = sorted(key_set - set(record)) or sorted(set(record) - key_set)
            raise InvalidInputError(f"row {index}: columns differ from row 0 (see {missing[0]!r})")
    return {key: [record[key] for record in records] for key in keys}, len(records)


def enforce(
    schema: InputSchema,
    raw: Mapping[str, Sequence[Any] | np.ndarray],
    *,
    allowed_extra: Iterable[str] = (),
    extra: ExtraPolicy = "reject",
) -> tuple[Columns, int]:
    """Check ``raw`` columns against ``schema``; return typed arrays and the row count."""
    lengths = set(map(len, raw.values()))
    if len(lengths) > 1:
        raise InvalidInputError(f"columns have different lengths: {sorted(lengths)}")
    n_rows = lengths.pop() if lengths else 0
    if n_rows == 0:
        raise InvalidInputError("no rows to score: send at least one record")
    plan = _plan(schema)
    if extra == "reject":
        permitted = plan.names | set(allowed_extra) if allowed_extra else plan.names
        if not permitted.issuperset(raw):
            unexpected = next(name for name in raw if name not in permitted)
            raise InvalidInputError(
                f"unexpected column {unexpected!r}: the model takes {', '.join(schema.names)}"
            )
    if not plan.names <= raw.keys():
        missing = next(spec.name for spec in schema.columns if spec.name not in raw)
        raise InvalidInputError(f"missing column {missing!r}: the model takes {', '.join(schema.names)}")
    block = _number_block(plan, raw, n_rows)
    if block is not None and len(block) == len(schema.columns):  # every column a plain number
        columns: Columns = block
    else:
        columns = {}
        for spec in schema.columns:
            typed = block.get(spec.name) if block else None
            columns[spec.name] = typed if typed is not None else coerce_column(spec, raw[spec.name])
    for name in allowed_extra:
        if name in raw and name not in columns:
            columns[name] = np.asarray(raw[name], dtype=object)
    return columns, n_rows


@dataclass(frozen=True, slots=True)
class _SchemaPlan:
    """What enforcement derives from a schema once, not per request."""

    names: frozenset[str]
    numbers: tuple[str, ...]  # the ``number`` columns, typed together by ``_number_block``
    strict: tuple[int, ...]  # positions in ``numbers`` of the columns that may not be NaN
    number_lists: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the ``numbers`` values, in C


_PLANS: dict[int, tuple[InputSchema, _SchemaPlan]] = {}


def _plan(schema: InputSchema) -> _SchemaPlan:
    cached = _PLANS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    numbers = [spec for spec in schema.columns if spec.kind == "number"]
    names = tuple(spec.name for spec in numbers)
    plan = _SchemaPlan(
        frozenset(schema.names),
        names,
        tuple(index for index, spec in enumerate(numbers) if not spec.nullable),
        operator.itemgetter(*names) if len(names) > 1 else lambda raw: (),
    )
    if len(_PLANS) > 256:  # schemas are few (one per scorer); bound the cache anyway
        _PLANS.clear()
    _PLANS[id(schema)] = (schema, plan)  # the schema is kept, so its id is not reused
    return plan


def _number_block(plan: _SchemaPlan, raw: Mapping[str, Any], n_rows: int) -> dict[str, np.ndarray] | None:
    """Every ``number`` column sent as a list of plain JSON numbers, typed by ONE numpy call.

    A request's columns are short lists: one ``np.asarray`` per column costs more than the
    model. Anything unusual (a missing column, a null, NaN where not allowed, another type, a
    number too large) returns None, and the row-by-row checks name the row and value.
    """
    if len(plan.numbers) < 2:
        return None
    matrix = _number_rows(plan, raw, n_rows)
    return None if matrix is None else dict(zip(plan.numbers, matrix, strict=True))  # row views, made in C


def number_rows(schema: InputSchema, raw: Mapping[str, Any]) -> np.ndarray | None:
    """``raw`` as a (k, n) float64 array in ``schema`` order, when it is exactly the schema's
    columns, every one a ``number``, sent as equal lists of plain numbers; else None (then
    ``enforce`` checks it and names what is wrong).

    The scorer's direct path (while no stage would change the rows): no typed column is built.
    """
    plan = _plan(schema)
    if len(plan.numbers) != len(schema.columns) or len(plan.numbers) < 2 or raw.keys() != plan.names:
        return None
    lengths = set(map(len, raw.values()))
    if len(lengths) != 1 or 0 in lengths:
        return None
    return _number_rows(plan, raw, lengths.pop())


def _number_rows(plan: _SchemaPlan, raw: Mapping[str, Any], n_rows: int) -> np.ndarray | None:
    """The ``number`` columns as a (k, n) float64 array, or None if any is not plain numbers."""
    lists = plan.number_lists(raw)  # the caller checked that every column is there
    if not set(map(type, lists)) <= _LIST:
        return None
    # One row (the usual online request): a flat list converts several times faster than a
    # list of one-element lists.
    flat = list(map(_FIRST, lists)) if n_rows == 1 else None
    if not set(map(type, itertools.chain.from_iterable(lists) if flat is None else flat)) <= _PLAIN_NUMBERS:
        return None  # type() in C: a bool is not an int here
    try:
        matrix = (
            np.asarray(lists, dtype=np.float64)
            if flat is None
            else np.array(flat, dtype=np.float64).reshape(-1, 1)
        )
    except (OverflowError, ValueError):  # a huge integer, or lists of different lengths
        return None
    strict = plan.strict
    if strict:
        # A NaN anywhere makes the sum NaN (as does inf - inf: then the exact check decides);
        # Python's sum of one row's list is several times cheaper than np.isnan.
        total = matrix.sum() if flat is None else sum(flat)
        if total != total and np.isnan(matrix[list(strict)]).any():
            return None
    return matrix


def feature_matrix(columns: Columns, features: Sequence[str], dtype: type[np.floating[Any]]) -> np.ndarray:
    """The features as an (n, k) matrix (a transposed view; make it contiguous if needed).

    One (k, n) array transposed: about twice as fast as filling an (n, k) array column by
    column, for one row and for 100,000.
    """
    return np.array([columns[name] for name in features], dtype=dtype).T


def coerce_column(spec: ColumnSpec, values: Sequence[Any] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype != object:
        return _coerce_array(spec, values)
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if spec.kind in ("number", "integer"):
        return _numbers(spec, items)
    if spec.kind == "boolean":
        return _typed(spec, items, (bool, np.bool_), np.bool_)
    if spec.kind in ("category", "string"):
        return _typed(spec, items, (str,), object)
    if spec.kind == "datetime":
        return _datetimes(spec, items)
    return np.asarray(items, dtype=object)


def _coerce_array(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    kind = values.dtype.kind
    if spec.kind in ("number", "integer"):
        if kind not in "iuf":
            _fail(spec, 0, values[0])
        if kind == "f" and not spec.nullable and np.isnan(values).any():
            _null(spec, int(np.flatnonzero(np.isnan(values))[0]))
        if spec.kind == "integer" and kind == "f":
            finite = values[~np.isnan(values)]
            if (finite != np.round(finite)).any():
                row = int(np.flatnonzero(~np.isnan(values) & (values != np.round(values)))[0])
                _fail(spec, row, values[row])
        return (
            values.astype(np.int64)
            if spec.kind == "integer" and kind in "iu"
            else values.astype(np.float64, copy=False)
        )
    if spec.kind == "boolean" and kind == "b":
        return values
    if spec.kind == "datetime" and kind == "M":
        return values
    if spec.kind in ("category", "string") and kind in "UST":
        return values.astype(object)
    if spec.kind == "any":
        return values
    return coerce_column(spec, values.astype(object))


def _numbers(spec: ColumnSpec, items: list[Any]) -> np.ndarray:
    fast = _plain_numbers(spec, items)
    if fast is not None:
        return fast
    has_null = False
    for row, value in enumerate(items):
        if value is None or (isinstance(value, float) and value != value):
            if not spec.nullable:
                _null(spec, row)
            has_null = True
        elif not _is_number(value, integer=spec.kind == "integer"):
            _fail(spec, row, value)
    try:
        if spec.kind == "integer" and not has_null:
            return np.asarray(items, dtype=np.int64)
        return np.asarray([np.nan if value is None else value for value in items], dtype=np.float64)
    except OverflowError:  # a JSON integer beyond int64 (or beyond float64 for a number column)
        row = _first_out_of_range(items, integer=spec.kind == "integer" and not has_null)
        raise InvalidInputError(
            f"column {spec.name!r}, row {row}: {_shown(items[row])} is out of range for {spec.describe()}"
        ) from None


def _first_out_of_range(items: list[Any], *, integer: bool) -> int:
    for row, value in enumerate(items):
        try:
            np.asarray([value], dtype=np.int64 if integer else np.float64)
        except (OverflowError, TypeError):
            return row
    return 0


def _plain_numbers(spec: ColumnSpec, items: list[Any]) -> np.ndarray | None:
    """The hot path (one request of plain JSON numbers): the array, or None to check row by row.

    ``type(v) is int`` leaves out bool; anything unusual (None, NaN where not allowed, bool,
    strings, out-of-range integers) goes the slow way, which names the row and value.
    """
    try:
        if spec.kind == "integer":
            if all(type(value) is int for value in items):
                return np.asarray(items, dtype=np.int64)
            return None
        if all(type(value) is float or type(value) is int for value in items):
            if not spec.nullable and any(value != value for value in items):  # NaN, without numpy's overhead
                return None
            return np.asarray(items, dtype=np.float64)
    except OverflowError:
        return None
    return None


def _is_number(value: Any, *, integer: bool) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(value, _NUMBER_TYPES):
        return False
    return not (integer and isinstance(value, float | np.floating) and not float(value).is_integer())


def _typed(spec: ColumnSpec, items: list[Any], types: tuple[type, ...], dtype: Any) -> np.ndarray:
    for row, value in enumerate(items):
        if value is None:
            if not spec.nullable:
                _null(spec, row)
        elif not isinstance(value, types):
            _fail(spec, row, value)
    if dtype is np.bool_ and any(value is None for value in items):
        return np.asarray(items, dtype=object)
    return np.asarray(items, dtype=dtype)


def _datetimes(spec: ColumnSpec, items: list[Any]) -> np.ndarray:
    parsed: list[np.datetime64] = []
    for row, value in enumerate(items):
        if value is None:
            if not spec.nullable:
                _null(spec, row)
            parsed.append(np.datetime64("NaT"))
            continue
        try:
            parsed.append(np.datetime64(str(value).replace("Z", ""), "ns"))
        except ValueError:
            _fail(spec, row, value)
    return np.asarray(parsed, dtype="datetime64[ns]")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(spec: ColumnSpec, row: int, value: Any) -> None:
    shown = _shown(value)
    raise InvalidInputError(
        f"column {spec.name!r}, row {row}: expected {spec.describe()}, got {shown} ({type(value).__name__})"
    )


def _null(spec: ColumnSpec, row: int) -> None:
    raise InvalidInputError(
        f"column {spec.name!r}, row {row}: null/NaN is not allowed "
        "(the training data had no missing values here)"
    )
