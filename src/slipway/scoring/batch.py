"""The working state of one batch as it moves through the scoring path.

Stages (lookups, guards) read and change it: they add columns, flag or reject rows, clip
values, replace predictions. Flags are kept per row (``RowFlags``: only flagged rows cost
anything); rows that are rejected before prediction are not sent to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from slipway.core.flags import Flag
from slipway.scoring.row_flags import RowFlags
from slipway.scoring.schema import Columns


@dataclass
class Batch:
    columns: Columns
    n_rows: int
    flags: RowFlags = field(default_factory=lambda: RowFlags(0))
    rejected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    predictions: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    #: Per-row extra outputs, e.g. conformal ``prediction_set`` or ``interval``; one entry per row.
    extras: dict[str, list[Any]] = field(default_factory=dict)
    #: Free-form facts stages record for the response or metrics (cache hits, lookup latency).
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.flags) != self.n_rows:
            self.flags = RowFlags(self.n_rows)
        if self.rejected.size != self.n_rows:
            self.rejected = np.zeros(self.n_rows, dtype=bool)

    def flag(self, row: int, flag: Flag) -> None:
        self.flags.add(row, flag)
        if flag.action == "reject":
            self.rejected[row] = True

    def flag_rows(self, rows: np.ndarray, make_flag: Any) -> None:
        """Flag every row index in ``rows`` with ``make_flag(row)``."""
        for row in rows.tolist():
            self.flag(row, make_flag(row))

    @property
    def accepted(self) -> np.ndarray:
        return ~self.rejected

    def extra(self, name: str) -> list[Any]:
        """The per-row list for extra output ``name``, created filled with None."""
        return self.extras.setdefault(name, [None] * self.n_rows)
