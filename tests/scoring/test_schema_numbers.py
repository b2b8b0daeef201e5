"""Number columns: the fast path for plain JSON numbers agrees with the row-by-row checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slipway.core.errors import InvalidInputError
from slipway.scoring.schema import ColumnSpec, coerce_column

NUMBER = ColumnSpec("x", "number", nullable=False)
NULLABLE = ColumnSpec("x", "number", nullable=True)
INTEGER = ColumnSpec("n", "integer", nullable=False)


@pytest.mark.parametrize(
    ("spec", "values", "expected"),
    [
        (NUMBER, [1.5, 2, -3.0], [1.5, 2.0, -3.0]),
        (NULLABLE, [1.5, None, math.nan], [1.5, math.nan, math.nan]),
        (INTEGER, [1, 2, 3], [1, 2, 3]),
        (INTEGER, [1, 2.0], [1, 2]),
        (NUMBER, [2**70], [float(2**70)]),
    ],
    ids=["floats-and-ints", "nulls-allowed", "integers", "integral-float", "big-int-as-float"],
)
def test_numbers_are_typed(spec, values, expected):
    result = coerce_column(spec, values)
    assert result.dtype == (np.int64 if spec.kind == "integer" else np.float64)
    np.testing.assert_array_equal(result, np.asarray(expected, dtype=result.dtype))


@pytest.mark.parametrize(
    ("spec", "values", "match"),
    [
        (NUMBER, [1.0, math.nan], r"column 'x', row 1: null/NaN is not allowed"),
        (NUMBER, [1.0, None], r"column 'x', row 1: null/NaN is not allowed"),
        (NUMBER, [True], r"column 'x', row 0: expected a number, got True \(bool\)"),
        (NUMBER, ["1.5"], r"column 'x', row 0: expected a number, got '1.5'"),
        (NUMBER, [1.0, 10**400], r"column 'x', row 1: 1000.*\.\.\. is out of range for a number"),
        (INTEGER, [1, 2**63], r"column 'n', row 1: 9223372036854775808 is out of range for an integer"),
        (INTEGER, [1, 2.5], r"column 'n', row 1: expected an integer, got 2.5"),
        (INTEGER, [False], r"column 'n', row 0: expected an integer, got False"),
    ],
    ids=["nan", "null", "bool", "string", "too-big-float", "too-big-int", "fraction", "bool-int"],
)
def test_bad_numbers_name_the_row_and_value(spec, values, match):
    with pytest.raises(InvalidInputError, match=match):
        coerce_column(spec, values)


def test_many_number_columns_are_typed_together_with_the_same_checks():
    from slipway.scoring.schema import InputSchema, enforce

    schema = InputSchema(tuple(ColumnSpec(f"c{i}", "number", nullable=i == 0) for i in range(5)))
    good = {f"c{i}": [1, 2.5] for i in range(5)}
    columns, rows = enforce(schema, good)
    assert rows == 2 and [columns[f"c{i}"].tolist() for i in range(5)] == [[1.0, 2.5]] * 5
    assert math.isnan(enforce(schema, {**good, "c0": [math.nan, 1.0]})[0]["c0"][0])
    with pytest.raises(InvalidInputError, match=r"column 'c3', row 1: null/NaN is not allowed"):
        enforce(schema, {**good, "c3": [1.0, math.nan]})
    with pytest.raises(InvalidInputError, match=r"column 'c2', row 0: expected a number, got True"):
        enforce(schema, {**good, "c2": [True, 1.0]})
    with pytest.raises(InvalidInputError, match=r"column 'c4', row 1: .* is out of range"):
        enforce(schema, {**good, "c4": [1.0, 10**400]})


def test_one_row_requests_are_typed_with_the_same_checks():
    from slipway.scoring.schema import InputSchema, enforce

    schema = InputSchema(tuple(ColumnSpec(f"c{i}", "number", nullable=i == 0) for i in range(5)))
    good = {f"c{i}": [i + 0.5] for i in range(5)}
    columns, rows = enforce(schema, good)
    assert rows == 1 and [columns[f"c{i}"].tolist() for i in range(5)] == [[i + 0.5] for i in range(5)]
    assert math.isnan(enforce(schema, {**good, "c0": [math.nan]})[0]["c0"][0])
    opposite = enforce(schema, {**good, "c1": [math.inf], "c2": [-math.inf]})[0]  # their sum is NaN
    assert opposite["c1"].tolist() == [math.inf] and opposite["c2"].tolist() == [-math.inf]
    with pytest.raises(InvalidInputError, match=r"column 'c3', row 0: null/NaN is not allowed"):
        enforce(schema, {**good, "c3": [math.nan]})
    with pytest.raises(InvalidInputError, match=r"column 'c3', row 0: null/NaN is not allowed"):
        enforce(schema, {**good, "c3": [None]})
    with pytest.raises(InvalidInputError, match=r"column 'c2', row 0: expected a number, got True"):
        enforce(schema, {**good, "c2": [True]})
    with pytest.raises(InvalidInputError, match=r"column 'c4', row 0: .* is out of range"):
        enforce(schema, {**good, "c4": [10**400]})
