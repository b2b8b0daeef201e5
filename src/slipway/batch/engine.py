"""What a batch engine is given and what it returns; engines are interchangeable behind ``BatchEngine``.

As Kedro's runners, the engines (``LocalBatchEngine`` here, ``SparkBatchEngine`` in the
adapters) take the same ``BatchJob`` and return the same ``BatchOutcome``; which one runs is
decided at the top (``Slipway.score``, ``slipway score --engine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from slipway.artifacts.loader import LoadedArtifact
from slipway.batch.output import OutputLayout, RunIdentity
from slipway.batch.progress import ProgressReporter
from slipway.batch.sources import Source
from slipway.batch.worker import ArtifactSpec, ScorerFactory, ScoringPlan, default_scorer, factory_name
from slipway.core.batch_run import BatchRunRecord
from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.model import TrustOptions

DEFAULT_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class BatchJob:
    """One scoring run: which artifact, which rows, where the result goes, and how."""

    artifact: LoadedArtifact  # loaded and verified by the caller: its features, classes, profile
    identity: RunIdentity
    source: Source
    output: str
    input_fingerprint: str
    input_columns: tuple[str, ...]  # what the scorer reads: features not looked up, plus lookup keys
    keep: tuple[str, ...]  # input columns passed through to the output
    types: dict[str, pa.DataType] = field(default_factory=dict)
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    resume: bool = False
    overwrite: bool = False
    trust: TrustOptions = field(default_factory=TrustOptions)
    scorer_factory: ScorerFactory = default_scorer

    @property
    def read_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.input_columns, *self.keep)))

    def resume_key(self) -> str:
        """What a partial run must share with this one to be resumed by it."""
        return sha256_hex(
            to_canonical_json(
                {
                    "input": self.input_fingerprint,
                    "digest": self.identity.digest,
                    "chunk_rows": self.chunk_rows,
                    "columns": list(self.input_columns),
                    "keep": list(self.keep),
                    "scorer": factory_name(self.scorer_factory),
                }
            )
        )

    def layout(self, input_schema: pa.Schema, *, run_id: str) -> OutputLayout:
        identity = RunIdentity(self.identity.model, self.identity.version, self.identity.digest, run_id)
        return OutputLayout.for_input(
            identity,
            task=self.artifact.task,
            classes=self.artifact.classes,
            input_schema=input_schema,
            keep=self.keep,
        )

    def spec(self) -> ArtifactSpec:
        return ArtifactSpec(str(self.artifact.path), self.identity.digest, self.trust, self.scorer_factory)

    def plan(self, layout: OutputLayout, *, artifact: str | None = None) -> ScoringPlan:
        return ScoringPlan(
            artifact=artifact or str(self.artifact.path),
            digest=self.identity.digest,
            layout=layout,
            input_columns=self.input_columns,
            trust=self.trust,
            scorer_factory=self.scorer_factory,
        )


@dataclass(frozen=True)
class BatchOutcome:
    """What a finished run produced: counts, where, and the output's digest."""

    engine: str
    run_id: str
    output: str
    output_digest: str
    input_fingerprint: str
    rows_in: int
    rows_out: int
    rows_flagged: int
    rows_rejected: int
    parts: int
    parts_resumed: int = 0
    #: Peak resident memory in bytes: of the driver, and of the largest worker (local engine).
    peak_rss: dict[str, int] = field(default_factory=dict)
    #: How many times workers loaded the artifact (Spark: once per Python worker process).
    artifact_loads: int | None = None
    #: The runtime the workers scored with (``onnx``, ``native``; comma-separated if they differed).
    runtime: str | None = None
    #: How the Spark engine read the input: ``tasks`` (its Python tasks read the Parquet row
    #: groups) or ``spark`` (``spark.read``); None for the local engine.
    reader: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "run_id": self.run_id,
            "output": self.output,
            "output_digest": self.output_digest,
            "input_fingerprint": self.input_fingerprint,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_flagged": self.rows_flagged,
            "rows_rejected": self.rows_rejected,
            "parts": self.parts,
            "parts_resumed": self.parts_resumed,
            "peak_rss": dict(self.peak_rss),
            "artifact_loads": self.artifact_loads,
            "runtime": self.runtime,
            "reader": self.reader,
        }


class BatchEngine(Protocol):
    @property
    def name(self) -> str: ...

    def start(self, spec: ArtifactSpec) -> None:
        """Get ready to score ``spec`` (e.g. start workers loading it) while the caller checks input."""
        ...

    def close(self) -> None:
        """Release what ``start`` took if ``run`` did not (a run that never began)."""
        ...

    def run(self, job: BatchJob, *, progress: ProgressReporter) -> BatchOutcome: ...


@dataclass(frozen=True)
class BatchResult:
    """A finished run as recorded in the registry, with what the engine measured."""

    record: BatchRunRecord
    outcome: BatchOutcome
