"""Output checks: a regression output within bounds, a classifier's certainty above a threshold.

Bounds are configured, or the training target's range widened by ``margin`` of that range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slipway.core.flags import Flag
from slipway.core.profile import DataProfile
from slipway.guards.config import OutputConfig, Policy
from slipway.guards.policy import row_action
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

GUARD = "output"


def fit_output(config: OutputConfig, profile: DataProfile, task: str) -> dict[str, Any] | None:
    fitted: dict[str, Any] = {"policy": config.policy, "task": task}
    if task == "regression":
        bounds = config.bounds
        target = profile.target
        if (
            bounds is None
            and target is not None
            and target.minimum is not None
            and target.maximum is not None
        ):
            pad = config.margin * (target.maximum - target.minimum)
            bounds = (target.minimum - pad, target.maximum + pad)
        if bounds is None:
            return None  # no target in the training data and no configured bounds: nothing to check
        fitted["bounds"] = [float(bounds[0]), float(bounds[1])]
    else:
        if config.min_certainty is None:
            return None
        fitted["min_certainty"] = config.min_certainty
    return fitted


class OutputGuard:
    """Output stage: flags, rejects, clips or hands to the fallback rows with an implausible output."""

    name = GUARD
    phase: Phase = "output"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fitted: dict[str, Any]) -> None:
        self.policy: Policy = fitted["policy"]
        self.bounds: list[float] | None = fitted.get("bounds")
        self.min_certainty: float | None = fitted.get("min_certainty")

    def apply(self, batch: Batch) -> None:
        if batch.predictions is None:
            return
        if self.bounds is not None:
            self._check_bounds(batch)
        if self.min_certainty is not None and batch.probabilities is not None:
            self._check_certainty(batch)

    def _check_bounds(self, batch: Batch) -> None:
        assert self.bounds is not None  # checked by the caller
        assert batch.predictions is not None
        low, high = self.bounds
        accepted = batch.accepted
        values = np.where(accepted, batch.predictions, np.nan).astype(np.float64)
        with np.errstate(invalid="ignore"):
            outside = np.flatnonzero((values < low) | (values > high))
        action = row_action(self.policy)
        for row in outside.tolist():
            value = float(values[row])
            batch.flag(
                row,
                Flag(
                    GUARD,
                    "below_bounds" if value < low else "above_bounds",
                    f"the prediction {value:g} is outside the plausible range [{low:g}, {high:g}]",
                    action=action,
                    value=value,
                    detail={"bounds": [low, high]},
                ),
            )
        if self.policy == "clip" and outside.size:
            predictions = np.array(batch.predictions, copy=True)
            predictions[outside] = np.clip(values[outside], low, high)
            batch.predictions = predictions

    def _check_certainty(self, batch: Batch) -> None:
        assert self.min_certainty is not None
        assert batch.probabilities is not None
        top = batch.probabilities.max(axis=1)  # NaN for rejected rows: compares False below
        uncertain = np.flatnonzero(batch.accepted & (top < self.min_certainty))
        # one immutable flag for all such rows: each row's probabilities show its certainty
        flag = Flag(
            GUARD,
            "uncertain",
            f"the highest class probability is below {self.min_certainty:g}",
            action=row_action(self.policy),
            detail={"min_certainty": self.min_certainty},
        )
        for row in uncertain.tolist():
            batch.flag(row, flag)
