"""The flags of every row of a batch, stored only for the rows that have some.

A batch of 100,000 rows where a handful are flagged used to hold 100,000 empty lists: building
them cost ~0.3 s per batch (mostly the garbage collector walking them), a third of the time
onnxruntime takes to score the batch. ``RowFlags`` reads like that list of lists
(``flags[row]``, ``len``, iteration, slices, ``==`` with a list) but keeps a dict of the rows
that were touched, so only flagged rows cost anything and batch outputs visit only them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from slipway.core.flags import Flag


class RowFlags(Sequence[list[Flag]]):
    __slots__ = ("_n_rows", "_rows")

    def __init__(self, n_rows: int, rows: dict[int, list[Flag]] | None = None) -> None:
        self._n_rows = n_rows
        self._rows: dict[int, list[Flag]] = rows if rows is not None else {}

    @classmethod
    def from_lists(cls, flags: Iterable[list[Flag]]) -> RowFlags:
        lists = list(flags)
        return cls(len(lists), {row: list(found) for row, found in enumerate(lists) if found})

    def add(self, row: int, flag: Flag) -> None:
        self._rows.setdefault(self._index(row), []).append(flag)

    @overload
    def __getitem__(self, index: int) -> list[Flag]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[Flag]]: ...

    def __getitem__(self, index: int | slice) -> list[Flag] | list[list[Flag]]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(self._n_rows))]
        # The row's own list, kept: code that appends to ``flags[row]`` still flags the row.
        return self._rows.setdefault(self._index(index), [])

    def __len__(self) -> int:
        return self._n_rows

    def __iter__(self) -> Iterator[list[Flag]]:
        # Reading only: rows without flags give a fresh empty list, not kept (add with ``add``).
        rows = self._rows
        return (rows.get(row) or [] for row in range(self._n_rows))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowFlags):
            return (
                self._n_rows == other._n_rows
                and self.flagged_rows() == other.flagged_rows()
                and all(self._rows[row] == other._rows[row] for row in self.flagged_rows())
            )
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == self._n_rows and all(
                list(found) == self[row] for row, found in enumerate(other)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return f"RowFlags(n_rows={self._n_rows}, flagged={self.flagged_rows()})"

    def any(self) -> bool:
        """Whether any row has a flag (cheap: the usual batch has none)."""
        return any(self._rows.values())

    def flagged_rows(self) -> list[int]:
        """The indices of the rows with at least one flag, in order."""
        return sorted(row for row, found in self._rows.items() if found)

    def flagged_mask(self) -> np.ndarray:
        mask = np.zeros(self._n_rows, dtype=bool)
        mask[self.flagged_rows()] = True
        return mask

    def mask(self, matches: Callable[[Flag], bool]) -> np.ndarray:
        """Rows with at least one flag that ``matches``, as a boolean array; visits flagged rows only."""
        mask = np.zeros(self._n_rows, dtype=bool)
        for row, found in self._rows.items():
            if any(matches(flag) for flag in found):
                mask[row] = True
        return mask

    def _index(self, row: int) -> int:
        index = int(row)
        if index < 0:
            index += self._n_rows
        if not 0 <= index < self._n_rows:
            raise IndexError(f"row {row} is out of range for a batch of {self._n_rows} rows")
        return index
