"""The Scorer: one artifact, its runtime and its stages, applied to a batch of rows.

    enrich stages -> schema enforcement -> input stages -> predict -> output stages

Stages are the extension points: lookups (``slipway.enrichment``) are ``enrich`` stages that add
columns from a database; runtime guards (``slipway.guards``) are ``input`` and ``output`` stages.
Rows rejected before prediction are not sent to the model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from slipway.scoring.batch import Batch
from slipway.scoring.result import ScoredBatch
from slipway.scoring.row_flags import RowFlags
from slipway.scoring.runtime import MatrixRuntime, NativeRuntime, Runtime
from slipway.scoring.schema import ExtraPolicy, InputSchema, enforce, number_rows, records_to_columns

if TYPE_CHECKING:
    import pandas as pd

    from slipway.artifacts.loader import LoadedArtifact

Phase = Literal["enrich", "input", "output"]


class Stage(Protocol):
    name: str
    phase: Phase
    #: Columns the stage adds to the batch (enrich stages); the request need not send them.
    provides: tuple[str, ...]
    #: Request columns the stage needs that are not model features (e.g. lookup keys).
    requires: tuple[str, ...]

    def apply(self, batch: Batch) -> None: ...


@runtime_checkable
class Passive(Protocol):
    """A stage that can tell when it would leave valid rows nobody flagged exactly as they are."""

    def passes_clean_rows(self) -> bool:
        """True when, right now, applying the stage to such a batch would change nothing."""
        ...


@dataclass
class Scorer:
    artifact: LoadedArtifact
    runtime: Runtime | None = None
    stages: Sequence[Stage] = ()
    extra_columns: ExtraPolicy = "reject"
    schema: InputSchema = field(init=False)
    request_schema: InputSchema = field(init=False)

    def __post_init__(self) -> None:
        self._runtime: Runtime = self.runtime or NativeRuntime(self.artifact.runner)
        profile = self.artifact.profile
        self.schema = (
            InputSchema.from_profile(profile) if profile else InputSchema.untyped(self.artifact.features)
        )
        provided = {name for stage in self.stages for name in stage.provides}
        self.request_schema = self.schema.without(provided)
        self._provided_schema = InputSchema(tuple(c for c in self.schema.columns if c.name in provided))
        self._by_phase = {
            phase: [stage for stage in self.stages if stage.phase == phase]
            for phase in ("enrich", "input", "output")
        }
        self._passthrough = tuple(dict.fromkeys(name for stage in self.stages for name in stage.requires))
        # While every stage would pass the rows unchanged, nothing needs typed columns: plain
        # numbers go to the model as they came (the direct path, see ``_score_numbers``).
        names = self.schema.names
        passive = [stage for stage in self.stages if isinstance(stage, Passive)]
        self._direct = (
            self._runtime
            if len(passive) == len(self.stages)
            and isinstance(self._runtime, MatrixRuntime)
            and names == self.features
            else None
        )
        self._passive: tuple[Passive, ...] = tuple(passive)

    @property
    def runtime_name(self) -> str:
        return self._runtime.name

    @property
    def features(self) -> tuple[str, ...]:
        return self.artifact.features

    @property
    def input_columns(self) -> tuple[str, ...]:
        """What a caller must send: features not provided by lookups, plus lookup keys."""
        return (
            *self.request_schema.names,
            *(n for n in self._passthrough if n not in self.request_schema.names),
        )

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> ScoredBatch:
        columns, _ = records_to_columns(records)
        return self.score_columns(columns)

    def score_frame(self, frame: pd.DataFrame) -> ScoredBatch:
        """Score a DataFrame; columns the model does not take (targets, ids) are ignored."""
        wanted = set(self.input_columns)
        return self.score_columns(
            {str(name): frame[name].to_numpy() for name in frame.columns if name in wanted}
        )

    def score_columns(self, raw: Mapping[str, Sequence[Any] | np.ndarray]) -> ScoredBatch:
        started = time.perf_counter()
        if (
            self._direct is not None
            and self._direct.takes_matrix
            and all(stage.passes_clean_rows() for stage in self._passive)
        ):
            rows = number_rows(self.schema, raw)
            if rows is not None:
                return self._score_numbers(self._direct, rows, started)
        columns, n_rows = enforce(
            self.request_schema, raw, allowed_extra=self._passthrough, extra=self.extra_columns
        )
        batch = Batch(columns=columns, n_rows=n_rows)
        for stage in self._by_phase["enrich"]:
            stage.apply(batch)
        if self._provided_schema.columns:
            enriched, _ = enforce(self._provided_schema, batch.columns, extra="ignore")
            batch.columns.update(enriched)
        for stage in self._by_phase["input"]:
            stage.apply(batch)
        predicted = time.perf_counter()
        self._predict(batch)
        predict_ms = (time.perf_counter() - predicted) * 1e3
        for stage in self._by_phase["output"]:
            stage.apply(batch)
        return ScoredBatch.from_batch(
            batch,
            classes=self.artifact.classes,
            runtime=self._runtime.name,
            timings={"predict_ms": predict_ms, "total_ms": (time.perf_counter() - started) * 1e3},
        )

    def _score_numbers(self, runtime: MatrixRuntime, rows: np.ndarray, started: float) -> ScoredBatch:
        """The direct path: ``rows`` (k, n), the request's numbers in feature order, to the model.

        ``number_rows`` accepted them only if ``enforce`` would have passed them unchanged.
        """
        matrix = rows.T
        predicted = time.perf_counter()
        prediction = runtime.predict_matrix(matrix)
        finished = time.perf_counter()
        n_rows = matrix.shape[0]
        return ScoredBatch(
            predictions=prediction.values,
            probabilities=prediction.probabilities,
            classes=self.artifact.classes,
            rejected=np.zeros(n_rows, dtype=bool),
            flags=RowFlags(n_rows),
            runtime=self._runtime.name,
            timings={"predict_ms": (finished - predicted) * 1e3, "total_ms": (finished - started) * 1e3},
        )

    def _predict(self, batch: Batch) -> None:
        if not batch.rejected.any():  # the usual case: every row goes to the model as it is
            prediction = self._runtime.predict(batch.columns, self.features)
            batch.predictions, batch.probabilities = prediction.values, prediction.probabilities
            return
        accepted = batch.accepted
        if not accepted.any():
            return
        columns = {name: values[accepted] for name, values in batch.columns.items()}
        prediction = self._runtime.predict(columns, self.features)
        batch.predictions = np.empty(batch.n_rows, dtype=object)
        batch.predictions[accepted] = prediction.values
        if prediction.probabilities is not None:
            batch.probabilities = np.full((batch.n_rows, prediction.probabilities.shape[1]), np.nan)
            batch.probabilities[accepted] = prediction.probabilities
