"""Scoring inside a worker process: a local pool worker or a Spark Python worker.

A worker loads and verifies the artifact once (a module-level cache keyed by digest, which
lives as long as the process: Spark reuses its Python workers across tasks) and then scores
every chunk it is handed with the same ``Scorer`` the online path uses.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from slipway.artifacts.deferred import DeferredRunner
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.artifacts.verify import verify_artifact
from slipway.batch.output import OutputLayout, table_columns
from slipway.core.errors import UntrustedContentError
from slipway.core.model import TrustOptions
from slipway.scoring.scorer import Scorer

ScorerFactory = Callable[[LoadedArtifact], Scorer]


def default_scorer(artifact: LoadedArtifact) -> Scorer:
    """The scorer of the artifact, as online scoring builds it."""
    return Scorer(artifact)


@dataclass(frozen=True)
class ArtifactSpec:
    """Which artifact a worker loads and how it builds its scorer: small and picklable."""

    artifact: str  # a folder on the worker's disk (on Spark: the name given to SparkFiles)
    digest: str
    trust: TrustOptions = field(default_factory=TrustOptions)
    scorer_factory: ScorerFactory = default_scorer


@dataclass(frozen=True, kw_only=True)
class ScoringPlan(ArtifactSpec):
    """Everything a worker needs to score a chunk: it travels with every part."""

    layout: OutputLayout
    input_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartResult:
    index: int
    file: str
    rows: int
    flagged: int
    rejected: int
    sha256: str
    size: int
    peak_rss: int
    runtime: str = ""


_SCORERS: dict[str, Scorer] = {}
_LOADS: dict[str, int] = {}


def factory_name(factory: ScorerFactory) -> str:
    """A stable name for a scorer factory: a function, or a ``functools.partial`` of one."""
    if isinstance(factory, partial):
        arguments = [repr(value) for value in factory.args]
        arguments += [f"{name}={value!r}" for name, value in sorted(factory.keywords.items())]
        return f"{factory_name(factory.func)}({', '.join(arguments)})"
    return f"{factory.__module__}.{getattr(factory, '__qualname__', type(factory).__qualname__)}"


def scorer_for(plan: ArtifactSpec, *, folder: str | None = None) -> Scorer:
    """The process's scorer for ``plan``: the artifact is loaded and verified on first use only.

    Its native model is deserialised only if the scorer uses it: a scorer on the verified
    compiled runtime never imports the model's library (``DeferredRunner``).
    """
    factory = plan.scorer_factory
    key = f"{plan.digest}/{factory_name(factory)}"
    scorer = _SCORERS.get(key)
    if scorer is None:
        artifact = load_artifact(
            Path(folder or plan.artifact), expected_digest=plan.digest, trust=plan.trust, defer_model=True
        )
        scorer = factory(artifact)
        if scorer.runtime_name == "native" and isinstance(artifact.runner, DeferredRunner):
            artifact.runner.loaded()  # the native model scores: load it now, not in the first chunk
        _SCORERS[key] = scorer
        _LOADS[plan.digest] = _LOADS.get(plan.digest, 0) + 1
    return scorer


class ModelInWorkers:
    """The driver's stand-in for a model it does not load: workers load and run the real one.

    The driver plans a run (input columns, output schema) from the verified manifest and
    profile; deserialising the model there too would only delay the workers on a small machine.
    Calling it is a programming error, never a user's: it says so.
    """

    def __init__(self, classes: tuple[object, ...] | None) -> None:
        self.classes = classes

    def predict(self, frame: object) -> np.ndarray:
        raise RuntimeError("the batch driver does not run the model; its workers do")

    def predict_proba(self, frame: object) -> np.ndarray | None:
        raise RuntimeError("the batch driver does not run the model; its workers do")


def planning_artifact(folder: Path, *, digest: str | None, trust: TrustOptions) -> LoadedArtifact:
    """The verified artifact at ``folder`` without its model: enough to plan a batch run."""
    manifest = verify_artifact(folder, expected_digest=digest)
    if manifest.model.trusted_pickle and not trust.pickle:
        raise UntrustedContentError(
            f"artifact {manifest.name} ({manifest.digest[:12]}) holds a pickle model: loading it can run "
            "arbitrary code. Pass trust_pickle=True (CLI: --trust-pickle) only if you trust its origin"
        )
    return LoadedArtifact(path=folder, manifest=manifest, runner=ModelInWorkers(manifest.model.classes))


def load_count(digest: str) -> int:
    """How many times this process loaded the artifact ``digest`` (1 when the cache works)."""
    return _LOADS.get(digest, 0)


def score_table(plan: ScoringPlan, scorer: Scorer, table: pa.Table | pa.RecordBatch) -> pa.Table:
    """The output rows (``OutputLayout``) for one chunk of input rows."""
    if table.num_rows == 0:
        return plan.layout.empty()
    scored = scorer.score_columns(table_columns(table, plan.input_columns))
    kept = pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table
    return plan.layout.to_table(scored, kept.select(plan.layout.kept.names))


# -- the local engine's pool workers --------------------------------------------------------


def start_worker(threads: int, environ: dict[str, str]) -> None:
    """Pool initializer: the driver's ``environ``, and the model's threads capped (loading
    happens in tasks, whose errors carry)."""
    os.environ.clear()
    os.environ.update(environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    os.environ["SLIPWAY_MODEL_THREADS"] = str(threads)


def warm(spec: ArtifactSpec) -> int:
    """Load the artifact in a pool worker before its first part; the worker's pid."""
    scorer_for(spec)
    return os.getpid()


def score_part(plan: ScoringPlan, index: int, table: pa.Table, folder: str) -> PartResult:
    """Score one part and write it as ``folder/part-NNNNNN.parquet`` (renamed into place when whole)."""
    scorer = scorer_for(plan)
    output = score_table(plan, scorer, table)
    name = part_name(index)
    final = Path(folder) / name
    partial = final.with_name(f".{name}.{os.getpid()}.tmp")
    pq.write_table(output, partial)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    os.replace(partial, final)
    flagged = int(pc.sum(output.column("flagged")).as_py() or 0)
    rejected = int(pc.sum(output.column("rejected")).as_py() or 0)
    return PartResult(
        index,
        name,
        output.num_rows,
        flagged,
        rejected,
        sha256,
        final.stat().st_size,
        peak_rss(),
        scorer.runtime_name,
    )


def part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def peak_rss() -> int:
    """This process's peak resident memory in bytes (0 where the platform cannot tell)."""
    if sys.platform == "win32":
        return 0
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
