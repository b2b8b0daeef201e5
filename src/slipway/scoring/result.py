"""The result of scoring a batch, and its one JSON form per row.

Each row is ``{"prediction", "probabilities", "rejected", "flags", ...extras}``:
``prediction`` is null for rejected rows, ``probabilities`` maps class label to probability for
classifiers, ``flags`` is a list of ``Flag.to_dict()`` (see ``slipway.core.flags``), and extras
such as ``prediction_set`` or ``interval`` appear when a stage produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from slipway.scoring.batch import Batch
from slipway.scoring.row_flags import RowFlags


def to_plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value (None for NaN), for JSON."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


@dataclass(frozen=True)
class ScoredBatch:
    predictions: np.ndarray
    probabilities: np.ndarray | None
    classes: tuple[Any, ...] | None
    rejected: np.ndarray
    flags: RowFlags
    runtime: str
    extras: dict[str, list[Any]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_batch(
        cls,
        batch: Batch,
        *,
        classes: tuple[Any, ...] | None,
        runtime: str,
        timings: dict[str, float],
    ) -> ScoredBatch:
        predictions = batch.predictions
        if predictions is None:  # every row was rejected before prediction
            predictions = np.full(batch.n_rows, None, dtype=object)
        return cls(
            predictions=predictions,
            probabilities=batch.probabilities,
            classes=classes,
            rejected=batch.rejected,
            flags=batch.flags,
            runtime=runtime,
            extras=batch.extras,
            notes=batch.notes,
            timings=timings,
        )

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def flagged(self) -> np.ndarray:
        return self.flags.flagged_mask()

    def row(self, index: int) -> dict[str, Any]:
        rejected = bool(self.rejected[index])
        result: dict[str, Any] = {
            "prediction": None if rejected else to_plain(self.predictions[index]),
            "rejected": rejected,
            "flags": [flag.to_dict() for flag in self.flags[index]],
        }
        if self.probabilities is not None and self.classes is not None:
            result["probabilities"] = (
                None
                if rejected
                else dict(zip(map(str, self.classes), self.probabilities[index].tolist(), strict=True))
            )
        for name, values in self.extras.items():
            result[name] = values[index]
        return result

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(index) for index in range(len(self))]
