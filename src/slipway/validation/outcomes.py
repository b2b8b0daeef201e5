"""Score a scenario's rows through the Scorer and say, row by row, what happened.

Each row ends in one of four outcomes, and this is how the gate judges them:

- ``scored``: a finite prediction (a known class, probabilities that are finite);
- ``refused``: the input schema refused the row with a clear error (``InvalidInputError``). A
  clean refusal of bad input is correct behaviour, so it fails nothing by default; plans can
  still bound ``refusal_rate``, and clean scenarios (files, synthetic rows) expect none;
- ``nan``: the model returned NaN, infinity or a class it does not have: always a defect;
- ``error``: the model raised: always a defect.

The whole scenario is scored in chunks; a chunk the schema refuses is screened column by column
with the schema's own checks to find the refused rows, and a chunk on which the model raises is
split in halves until the rows that make it raise are found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.core.errors import InvalidInputError
from slipway.guards.stages import GUARD_NAMES
from slipway.scoring.result import ScoredBatch
from slipway.scoring.schema import coerce_column
from slipway.scoring.scorer import Scorer

SCORED, REFUSED, NAN, ERROR = 0, 1, 2, 3
OUTCOMES = ("scored", "refused", "nan", "error")
CHUNK_ROWS = 20_000
MAX_EXAMPLES = 5


@dataclass
class Outcome:
    """Per-row results of scoring one scenario."""

    status: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray | None
    refusals: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    #: Rows a runtime guard flagged (None when the scorer has no guards).
    flagged: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.status)

    @property
    def scored(self) -> np.ndarray:
        scored: np.ndarray = self.status == SCORED
        return scored

    def rate(self, code: int) -> float:
        return float(np.mean(self.status == code)) if len(self) else 0.0

    def counts(self) -> dict[str, int]:
        return {name: int(np.sum(self.status == code)) for code, name in enumerate(OUTCOMES)}

    def note(self, row: int, outcome: str, message: str) -> None:
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append({"row": row, "outcome": outcome, "message": message[:300]})


def score_outcomes(scorer: Scorer, frame: pd.DataFrame) -> Outcome:
    n_rows = len(frame)
    n_classes = len(scorer.artifact.classes or ()) if scorer.artifact.task == "classification" else 0
    outcome = Outcome(
        status=np.full(n_rows, SCORED, dtype=np.int8),
        predictions=np.full(n_rows, np.nan, dtype=object),
        probabilities=np.full((n_rows, n_classes), np.nan) if n_classes else None,
        flagged=np.zeros(n_rows, dtype=bool) if _has_guards(scorer) else None,
    )
    if n_rows == 0:
        return outcome
    wanted = [name for name in frame.columns if name in set(scorer.input_columns)]
    columns = {str(name): frame[name].to_numpy() for name in wanted}
    for start in range(0, n_rows, CHUNK_ROWS):
        rows = np.arange(start, min(start + CHUNK_ROWS, n_rows))
        _score_rows(scorer, columns, rows, outcome)
    _check_outputs(scorer, outcome)
    if scorer.artifact.task == "regression":
        numeric = pd.to_numeric(pd.Series(outcome.predictions), errors="coerce")
        outcome.predictions = numeric.to_numpy(dtype=np.float64)
    return outcome


def _has_guards(scorer: Scorer) -> bool:
    return any(stage.name in GUARD_NAMES for stage in scorer.stages)


def _take(columns: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[rows] for name, values in columns.items()}


def _score_rows(scorer: Scorer, columns: dict[str, np.ndarray], rows: np.ndarray, outcome: Outcome) -> None:
    try:
        result = scorer.score_columns(_take(columns, rows))
    except InvalidInputError as exc:
        if len(rows) == 1:
            _refuse(outcome, int(rows[0]), str(exc).replace("row 0", f"row {rows[0]}"))
            return
        accepted = _screen(scorer, columns, rows, outcome)
        if len(accepted) == len(rows):  # not a column check: find the rows by halving
            _split(scorer, columns, rows, outcome)
        elif len(accepted):
            _score_rows(scorer, columns, accepted, outcome)
        return
    except Exception as exc:  # noqa: BLE001  # the gate exists to catch models that crash
        if len(rows) == 1:
            row = int(rows[0])
            outcome.status[row] = ERROR
            outcome.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            outcome.note(row, "error", f"{type(exc).__name__}: {exc}")
            return
        _split(scorer, columns, rows, outcome)
        return
    _store(result, rows, outcome)


def _split(scorer: Scorer, columns: dict[str, np.ndarray], rows: np.ndarray, outcome: Outcome) -> None:
    middle = len(rows) // 2
    for part in (rows[:middle], rows[middle:]):
        _score_rows(scorer, columns, part, outcome)


def _refuse(outcome: Outcome, row: int, message: str) -> None:
    outcome.status[row] = REFUSED
    outcome.refusals[message.replace(", row 0:", ":")[:200]] += 1
    outcome.note(row, "refused", message)


def _screen(scorer: Scorer, columns: dict[str, np.ndarray], rows: np.ndarray, outcome: Outcome) -> np.ndarray:
    """Mark the rows the schema refuses, using its own column checks; return the others."""
    refused = np.zeros(len(rows), dtype=bool)
    for spec in scorer.request_schema.columns:
        if spec.name not in columns:
            message = (
                f"missing column {spec.name!r}: the model takes {', '.join(scorer.request_schema.names)}"
            )
            for row in rows.tolist():
                _refuse(outcome, row, message)
            return rows[:0]
        values = columns[spec.name][rows]
        try:
            coerce_column(spec, values)
            continue
        except InvalidInputError:
            pass
        for position in range(len(values)):
            if refused[position]:
                continue
            try:
                coerce_column(spec, values[position : position + 1])
            except InvalidInputError as exc:
                refused[position] = True
                _refuse(outcome, int(rows[position]), str(exc).replace("row 0", f"row {rows[position]}"))
    return rows[~refused]


def _store(result: ScoredBatch, rows: np.ndarray, outcome: Outcome) -> None:
    rejected = np.asarray(result.rejected, dtype=bool)
    for position in np.flatnonzero(rejected).tolist():
        reasons = "; ".join(flag.message for flag in result.flags[position]) or "rejected by a guard"
        _refuse(outcome, int(rows[position]), reasons)
    kept = ~rejected
    if outcome.flagged is not None:
        guarded = [any(flag.guard in GUARD_NAMES for flag in flags) for flags in result.flags]
        outcome.flagged[rows] = guarded
    outcome.predictions[rows[kept]] = np.asarray(result.predictions, dtype=object)[kept]
    if outcome.probabilities is not None and result.probabilities is not None:
        outcome.probabilities[rows[kept]] = np.asarray(result.probabilities, dtype=np.float64)[kept]


def _check_outputs(scorer: Scorer, outcome: Outcome) -> None:
    """Rows whose output is not a usable prediction become ``nan``."""
    scored = np.flatnonzero(outcome.status == SCORED)
    if scored.size == 0:
        return
    values = outcome.predictions[scored]
    if scorer.artifact.task == "regression":
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numeric)
    else:
        classes = scorer.artifact.classes or ()
        bad = ~pd.Series(values).isin(list(classes)).to_numpy()
        if outcome.probabilities is not None and outcome.probabilities.shape[1]:
            proba = outcome.probabilities[scored]
            bad |= ~np.isfinite(proba).all(axis=1)
    for row in scored[bad].tolist():
        outcome.status[row] = NAN
        outcome.note(row, "nan", f"the model returned {outcome.predictions[row]!r}")
