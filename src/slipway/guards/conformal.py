"""Conformal prediction with MAPIE, calibrated at build time, applied with numpy at scoring time.

At build time MAPIE's ``SplitConformalRegressor`` (absolute residuals) or
``SplitConformalClassifier`` (LAC score) is conformalized on the calibration split (the build's
validation data, which the model did not train on), over the artifact's own model runner, so
every flavor works and categorical inputs need no encoding. What MAPIE needs to predict is one
number, the conformity quantile ``q``; it is stored, and applied here:

- regression: the interval ``[prediction - q, prediction + q]`` (extra ``interval``);
- classification: the set of classes with ``1 - p <= q`` (extra ``prediction_set``), flagged
  when it is not a single class.

The calibration itself is in ``slipway.guards.calibration`` (it imports MAPIE and
scikit-learn; scoring does not). ``tests/guards/test_conformal.py`` checks that this equals
MAPIE's own ``predict_interval`` / ``predict_set`` on held-out rows.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from slipway.core.errors import InvalidInputError
from slipway.core.flags import Flag
from slipway.guards.config import Policy
from slipway.guards.policy import row_action
from slipway.guards.rows import RowValues
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

GUARD = "conformal"
#: MAPIE's tolerance when comparing a class's score with the quantile (mapie._machine_precision).
EPSILON = 1e-8


def minimum_rows(coverage: float) -> int:
    """The smallest calibration set whose conformal quantile at ``coverage`` is finite."""
    alpha = 1 - coverage
    return math.ceil((1 - alpha) / alpha - 1e-9)


def check_calibration_size(rows: int, coverage: float) -> None:
    needed = minimum_rows(coverage)
    if rows < needed:
        raise InvalidInputError(
            f"guards: conformal coverage {coverage} needs at least {needed} calibration rows, and the "
            f"validation data has {rows}; give more validation rows or lower the coverage"
        )


class ConformalGuard:
    """Output stage: intervals or prediction sets for accepted rows; flags ambiguous or wide ones."""

    name = GUARD
    phase: Phase = "output"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fitted: dict[str, Any], *, classes: tuple[Any, ...] | None) -> None:
        self.policy: Policy = fitted["policy"]
        self.task: str = fitted["task"]
        self.quantile = float(fitted["quantile"])
        self.coverage = float(fitted["coverage"])
        self.max_width: float | None = fitted.get("max_width")
        self.classes = np.asarray(classes) if classes is not None else None

    def apply(self, batch: Batch) -> None:
        if batch.predictions is None:
            return
        if self.task == "regression":
            self._intervals(batch)
        else:
            self._sets(batch)

    def _intervals(self, batch: Batch) -> None:
        assert batch.predictions is not None  # checked by apply
        accepted = batch.accepted
        predictions = np.where(accepted, batch.predictions, np.nan).astype(np.float64)
        low, high = predictions - self.quantile, predictions + self.quantile

        def interval(row: int) -> list[float] | None:
            return [float(low[row]), float(high[row])] if accepted[row] else None

        batch.extras["interval"] = cast(list[Any], RowValues(batch.n_rows, interval))
        width = 2 * self.quantile
        if self.max_width is not None and width > self.max_width:
            flag = Flag(
                GUARD,
                "wide_interval",
                f"the {self.coverage:.0%} interval is {width:g} wide, above {self.max_width:g}",
                action=row_action(self.policy),
                detail={"width": width, "max_width": self.max_width},
            )
            for row in np.flatnonzero(accepted).tolist():
                batch.flag(row, flag)

    def _sets(self, batch: Batch) -> None:
        if batch.probabilities is None or self.classes is None:
            return
        accepted = batch.accepted
        # NaN probabilities (rejected rows) compare False: an empty set, never read or flagged
        members = (1 - batch.probabilities) - self.quantile <= EPSILON
        # rows share few distinct sets: encode each as a bit pattern, build each set (and its
        # flag, immutable) once, instead of once per row
        codes = members.astype(np.int64) @ (1 << np.arange(members.shape[1], dtype=np.int64))
        labels = self.classes.tolist()
        patterns: dict[int, list[Any]] = {}
        flags: dict[int, Flag] = {}
        for code in np.unique(codes).tolist():
            chosen = [label for bit, label in enumerate(labels) if code >> bit & 1]
            patterns[code] = chosen
            if len(chosen) != 1:
                flags[code] = self._ambiguous(chosen)

        def prediction_set(row: int) -> list[Any] | None:
            return list(patterns[int(codes[row])]) if accepted[row] else None

        batch.extras["prediction_set"] = cast(list[Any], RowValues(batch.n_rows, prediction_set))
        for code, flag in flags.items():
            for row in np.flatnonzero(accepted & (codes == code)).tolist():
                batch.flag(row, flag)

    def _ambiguous(self, chosen: list[Any]) -> Flag:
        return Flag(
            GUARD,
            "empty_set" if not chosen else "ambiguous",
            f"at {self.coverage:.0%} coverage the prediction set is "
            f"{chosen if chosen else 'empty'}, not a single class",
            action=row_action(self.policy),
            detail={"prediction_set": chosen, "coverage": self.coverage},
        )
