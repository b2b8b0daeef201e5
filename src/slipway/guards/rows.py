"""``RowValues``: a per-row extra output computed when a row is read, not when the batch is scored.

Conformal intervals and prediction sets are one small list per row. Building 100,000 of them
for every batch costs more than the guard's arithmetic (and wakes the garbage collector); most
batch outputs read each row once. ``RowValues`` keeps the arrays and builds a row's value on
access; a stage may still overwrite a row (the fallback sets its interval to None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableSequence
from typing import Any, overload


class RowValues(MutableSequence[Any]):
    def __init__(self, length: int, make: Callable[[int], Any]) -> None:
        self._length = length
        self._make = make
        self._overrides: dict[int, Any] = {}

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(f"row {index} of {self._length}")
        if index in self._overrides:
            return self._overrides[index]
        return self._make(index)

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(index, int) or not 0 <= index < self._length:
            raise IndexError(f"row {index!r} of {self._length}: set rows one at a time")
        self._overrides[index] = value

    def __delitem__(self, index: Any) -> None:
        raise TypeError("rows of a batch cannot be deleted")

    def insert(self, index: int, value: Any) -> None:
        raise TypeError("rows cannot be added to a batch")

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._length))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list | RowValues):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"RowValues({list(self)[:3]}{'...' if self._length > 3 else ''})"
