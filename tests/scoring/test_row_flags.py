"""RowFlags reads and compares like the list of per-row flag lists it replaces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slipway.core.flags import Flag
from slipway.scoring.batch import Batch
from slipway.scoring.row_flags import RowFlags


def flag(code: str, action: str = "flag") -> Flag:
    return Flag("test", code, f"{code} fired", action=action)  # type: ignore[arg-type]


@given(st.integers(0, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, max(n - 1, 0))))))
def test_it_behaves_like_a_list_of_lists(case: tuple[int, list[int]]) -> None:
    n_rows, rows = case
    rows = rows if n_rows else []
    flags, expected = RowFlags(n_rows), [[] for _ in range(n_rows)]
    for position, row in enumerate(rows):
        flags.add(row, flag(f"c{position}"))
        expected[row].append(flag(f"c{position}"))
    assert flags.flagged_rows() == sorted({*rows})
    assert flags.flagged_mask().tolist() == [bool(found) for found in expected]
    assert flags == expected and list(flags) == expected and len(flags) == n_rows
    assert flags[1:4] == expected[1:4]
    assert flags == RowFlags.from_lists(expected)


def test_appending_to_a_row_read_by_index_flags_it() -> None:
    flags = RowFlags(5)
    assert not flags[3] and flags.flagged_rows() == []
    flags[3].append(flag("late"))
    flags[-1].append(flag("last"))
    assert flags.flagged_rows() == [3, 4]
    assert flags != [[], [], [], [flag("late")], []]


def test_rows_out_of_range_are_refused() -> None:
    with pytest.raises(IndexError, match="row 5 is out of range for a batch of 5 rows"):
        RowFlags(5).add(5, flag("x"))


def test_a_batch_keeps_only_flagged_rows_and_rejects_on_reject_flags() -> None:
    batch = Batch(columns={"x": np.arange(100_000.0)}, n_rows=100_000)
    batch.flag_rows(np.array([7, 99_999]), lambda row: flag("far", "reject" if row == 7 else "flag"))
    assert batch.flags.flagged_rows() == [7, 99_999]
    assert np.flatnonzero(batch.rejected).tolist() == [7]
    assert repr(batch.flags) == "RowFlags(n_rows=100000, flagged=[7, 99999])"
