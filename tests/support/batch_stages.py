"""Scoring stages for batch tests, standing in for runtime guards: they flag, reject and annotate.

They implement our own ``Stage`` protocol (no mocks), and live in an importable module so that
local worker processes and Spark's Python workers can unpickle a ``ScorerFactory`` naming them.
"""

from __future__ import annotations

import numpy as np

from slipway.artifacts.loader import LoadedArtifact
from slipway.core.flags import Flag
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Scorer

LATE_LIMIT = 4  # rows with more late payments are rejected before prediction
INCOME_LIMIT = 90_000.0  # rows with a higher income are flagged
CONFIDENT = 0.5  # default probabilities above this are flagged after prediction


class IncomeRange:
    name = "income_range"
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def apply(self, batch: Batch) -> None:
        income = batch.columns["income"]
        late = batch.columns["late_payments"]
        for row in np.flatnonzero(income > INCOME_LIMIT).tolist():
            batch.flag(
                row,
                Flag(
                    "income_range",
                    "above_range",
                    "income is above the training range",
                    feature="income",
                    value=float(income[row]),
                    detail={"maximum": INCOME_LIMIT},
                ),
            )
        for row in np.flatnonzero(late > LATE_LIMIT).tolist():
            batch.flag(
                row,
                Flag(
                    "late_payments",
                    "too_many",
                    "too many late payments to score",
                    action="reject",
                    feature="late_payments",
                    value=int(late[row]),
                ),
            )


class ConfidentDefault:
    name = "confident_default"
    phase = "output"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def apply(self, batch: Batch) -> None:
        if batch.probabilities is None:
            return
        default = batch.probabilities[:, 1]
        for row in np.flatnonzero(batch.accepted & (np.nan_to_num(default) > CONFIDENT)).tolist():
            batch.flag(
                row, Flag("confident_default", "high_risk", "predicted default", value=float(default[row]))
            )
        batch.extra("risk_band")[:] = ["high" if p > CONFIDENT else "low" for p in np.nan_to_num(default)]


def guarded_scorer(artifact: LoadedArtifact) -> Scorer:
    """The credit artifact's scorer with the two test stages."""
    return Scorer(artifact, stages=(IncomeRange(), ConfidentDefault()))
