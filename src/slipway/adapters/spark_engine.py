"""The Spark engine: the same scoring path, run by Spark's Python workers with ``mapInArrow``.

Parquet input is read by the Python tasks themselves when they can (``slipway.adapters.
spark_fragments``: the driver hands each task a run of row groups, the task reads them with
pyarrow): Spark then handles only the scored rows it writes. CSV input, an artifact with lookups,
and Parquet that the tasks cannot read as Spark would (a Hive partition column, types Spark reads
its own way, a default filesystem other than the local one) go through ``spark.read`` →
``mapInArrow``; ``BatchOutcome.reader`` says which way a run read its input.

The artifact folder is shipped to the executors with ``SparkContext.addFile`` and loaded, verified
against its digest, once per Python worker process (``slipway.batch.worker`` keeps it in a
module-level cache, and Spark reuses its Python workers across tasks, see
``spark.python.worker.reuse``); an accumulator counts those loads. Each Arrow batch of input
rows, read by the task or handed over by Spark, is scored by
``slipway.batch.worker.score_table``, exactly as the local engine does, except
that Spark, not Python, adds the constant identity columns; the output is written by Spark to a
staging folder beside the output, then renamed into place.

Runs on ``local[*]`` by default; ``master`` points at a cluster, whose executors need slipway
installed in their Python and, when the tasks read the input, the input's files at the path the
driver sees (as Spark's own reading of a local path needs too). An active SparkSession is reused
(and left running); a session this engine starts is stopped at the end of the run.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import SparkFiles, TaskContext
from pyspark.accumulators import Accumulator, AccumulatorParam
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.pandas.types import from_arrow_schema, from_arrow_type, to_arrow_schema

from slipway.adapters.spark_fragments import read_tasks, task_frame
from slipway.batch.engine import BatchJob, BatchOutcome
from slipway.batch.output import FLAGGED, REJECTED, OutputLayout
from slipway.batch.progress import ProgressReporter
from slipway.batch.sources import CsvSource, ParquetSource
from slipway.batch.staging import MANIFEST, check_output
from slipway.batch.worker import ArtifactSpec, ScoringPlan, load_count, peak_rss, score_table, scorer_for
from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.errors import (
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    SlipwayError,
    StoreError,
)
from slipway.enrichment.artifact import deployment_lookups
from slipway.runtimes.threads import configure_threads

_SHIPPED: dict[tuple[int, str], str] = {}


@dataclass(frozen=True)
class SparkBatchEngine:
    """Score with Spark: ``master`` [local[*]], ``partitions`` [Parquet: about a task per row
    group; else as Spark reads the input]; ``tasks_read`` [True]: let the Python tasks read
    Parquet input where they can (False: always ``spark.read``)."""

    master: str | None = None
    partitions: int | None = None
    name: str = "spark"
    tasks_read: bool = field(default=True, kw_only=True)

    def __post_init__(self) -> None:
        if self.partitions is not None and (
            isinstance(self.partitions, bool) or not isinstance(self.partitions, int) or self.partitions < 1
        ):
            raise InvalidInputError(f"invalid number of partitions {self.partitions!r}: use 1 or more")

    def run(self, job: BatchJob, *, progress: ProgressReporter) -> BatchOutcome:
        if job.resume:
            raise InvalidInputError(
                "--resume applies to the local engine; Spark retries failed tasks itself: rerun the job"
            )
        output = Path(job.output)
        check_output(output, overwrite=job.overwrite)
        spark, owned = self._session()
        try:
            return self._run(spark, job, output)
        except PySparkException as exc:
            raise _translated(exc) from exc
        finally:
            if owned:
                spark.stop()

    def _run(self, spark: SparkSession, job: BatchJob, output: Path) -> BatchOutcome:
        frame = _read(spark, job)  # only its schema when the tasks read the rows
        input_schema = to_arrow_schema(frame.schema)
        batch_rows = arrow_batch_rows(input_schema, job.chunk_rows)
        layout = job.layout(input_schema, run_id=job.identity.run_id)
        plan = job.plan(replace(layout, stamped=False), artifact=_ship(spark, job))
        loads = spark.sparkContext.accumulator(0)
        runtimes = spark.sparkContext.accumulator(frozenset[str](), _NameSet())
        schema = plan.layout.schema()
        score = _ScorePartition(plan, schema, loads, runtimes)
        tasks = self._tasks(spark, job, input_schema)
        with _worker_environment(spark, _lookup_variables(job)):  # captured when the function is wrapped
            if tasks is not None:
                scored = tasks.mapInArrow(
                    _ReadAndScore(score, input_schema, batch_rows), from_arrow_schema(schema)
                )
            else:
                if self.partitions is not None:
                    frame = frame.repartition(self.partitions)
                scored = frame.mapInArrow(score, from_arrow_schema(schema))
        scored = scored.select("*", *_identity_columns(layout))
        staging = output.with_name(f".{output.name}.slipway-partial-{uuid.uuid4().hex[:8]}")
        try:
            with _arrow_batches(spark, batch_rows):
                scored.write.mode("errorifexists").parquet(str(staging))
            rows, flagged, rejected = _counts(staging)
            digest = _commit(staging, output, job, rows, flagged, rejected)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return BatchOutcome(
            engine=self.name,
            run_id=job.identity.run_id,
            output=str(output),
            output_digest=digest,
            input_fingerprint=job.input_fingerprint,
            rows_in=rows,
            rows_out=rows,
            rows_flagged=flagged,
            rows_rejected=rejected,
            parts=len(_parts(output)),
            peak_rss={"driver": peak_rss()},
            artifact_loads=int(loads.value),
            runtime=",".join(sorted(runtimes.value)) or None,
            reader="spark" if tasks is None else "tasks",
        )

    def _tasks(self, spark: SparkSession, job: BatchJob, input_schema: pa.Schema) -> DataFrame | None:
        """The tasks that read the input themselves, or None for ``spark.read``: always for an
        artifact with lookups, whose Spark-side join (``slipway.enrichment.join``) belongs over
        Spark's rows."""
        if not self.tasks_read or deployment_lookups(job.artifact):
            return None
        return task_frame(
            spark, job.source, schema=input_schema, partitions=self.partitions, chunk_rows=job.chunk_rows
        )

    def start(self, spec: ArtifactSpec) -> None:
        """Nothing to prepare: the artifact is shipped when the job is built."""

    def close(self) -> None:
        """Nothing held between runs: a session this engine started is stopped by ``run``."""

    def _session(self) -> tuple[SparkSession, bool]:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active, False
        master = self.master or "local[*]"
        if master.startswith("local"):
            # Spark starts Python workers with `python3` from PATH unless told; use this interpreter.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            session = SparkSession.builder.master(master).appName("slipway score").getOrCreate()
        except (PySparkException, OSError, RuntimeError) as exc:
            raise StoreError(f"cannot start Spark on {master!r}: {_first_line(exc)}") from exc
        return session, True


class _ScorePartition:
    """What each Spark task runs: the artifact from the worker's cache, then one Arrow batch at a time.

    A Python worker's first task limits the model's threads to the task's cores
    (``spark.task.cpus``) before it loads the artifact: on ``local[2]`` two workers each running
    two OpenMP or onnxruntime threads on two cores fight over them.
    """

    def __init__(
        self,
        plan: ScoringPlan,
        schema: pa.Schema,
        loads: Accumulator[int],
        runtimes: Accumulator[frozenset[str]],
    ) -> None:
        self.plan = plan
        self.schema = schema
        self.loads = loads
        self.runtimes = runtimes

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        first = load_count(self.plan.digest) == 0
        if first:
            configure_threads(workers=1, cores=_task_cpus())
        scorer = scorer_for(self.plan, folder=SparkFiles.get(self.plan.artifact))
        if first:
            self.loads.add(1)
        self.runtimes.add(frozenset([scorer.runtime_name]))  # every task: workers may be reused
        for batch in batches:
            yield from score_table(self.plan, scorer, batch).cast(self.schema).to_batches()


class _ReadAndScore:
    """What each task runs when the tasks read the input: its fragments' rows, then the scoring."""

    def __init__(self, score: _ScorePartition, schema: pa.Schema, batch_rows: int) -> None:
        self.score = score
        self.schema = schema
        self.batch_rows = batch_rows

    def __call__(self, tasks: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return self.score(read_tasks(tasks, schema=self.schema, batch_rows=self.batch_rows))


class _NameSet(AccumulatorParam[frozenset[str]]):
    """Accumulates the names of the runtimes the Python workers scored with."""

    def zero(self, value: frozenset[str]) -> frozenset[str]:
        return frozenset()

    def addInPlace(self, value1: frozenset[str], value2: frozenset[str]) -> frozenset[str]:  # noqa: N802
        return value1 | value2


def _identity_columns(layout: OutputLayout) -> list[Column]:
    """The identity columns as Spark constants: the same in every row, so they need not travel
    from the Python workers through Arrow (~100 bytes a row, the digest alone 64)."""
    return [
        F.lit(value.as_py()).cast(from_arrow_type(value.type)).alias(name)
        for name, value in layout.identity_values()
    ]


def _task_cpus() -> int:
    context = TaskContext.get()
    return max(1, context.cpus()) if context is not None else 1


#: The most bytes of input rows in one Arrow batch to a Python worker: Spark's own default.
BATCH_BYTES = 64 << 20
#: The width assumed for a value of variable width (a string, a list) when sizing batches.
_VARIABLE_WIDTH = 64
_NO_BYTE_LIMIT = str(2**31 - 1)  # Spark's value for "no limit", which also skips the size checks


def arrow_batch_rows(schema: pa.Schema, chunk_rows: int) -> int:
    """Rows per Arrow batch sent to the Python workers: ``chunk_rows``, fewer if that many rows of
    ``schema`` would exceed ``BATCH_BYTES``.

    The byte bound is kept here, by rows, rather than by Spark's
    ``spark.sql.execution.arrow.maxBytesPerBatch``, which measures every column's buffers after
    each row: 14% of the JVM's time on a 30-column input.
    """
    width = sum(
        (field.type.bit_width // 8 or 1) if pa.types.is_primitive(field.type) else _VARIABLE_WIDTH
        for field in schema
    )
    return max(1, min(chunk_rows, BATCH_BYTES // max(1, width)))


@contextmanager
def _arrow_batches(spark: SparkSession, rows: int) -> Iterator[None]:
    """The session's Arrow batches hold ``rows`` rows, bounded by rows only, while the block runs."""
    settings = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(rows),
        "spark.sql.execution.arrow.maxBytesPerBatch": _NO_BYTE_LIMIT,
    }
    previous: dict[str, str | None] = {name: spark.conf.get(name, None) for name in settings}
    for name, value in settings.items():
        spark.conf.set(name, value)
    try:
        yield
    finally:
        for name, old in previous.items():
            if old is None:
                spark.conf.unset(name)
            else:
                spark.conf.set(name, old)


def _lookup_variables(job: BatchJob) -> dict[str, str]:
    """The environment variables naming the artifact's lookup databases, as the driver has them."""
    names = {spec.source.url_env for spec in deployment_lookups(job.artifact)}
    return {name: os.environ[name] for name in sorted(n for n in names if n) if name in os.environ}


@contextmanager
def _worker_environment(spark: SparkSession, variables: dict[str, str]) -> Iterator[None]:
    """Python workers get ``variables`` in their environment, for the functions wrapped meanwhile.

    The lookup stages in each worker read their database URL from the environment; Spark's
    workers get the environment of the JVM, started maybe long before the variable was set, plus
    ``SparkContext.environment``, which travels with each Python function.
    """
    environment = spark.sparkContext.environment
    previous = {name: environment.get(name) for name in variables}
    environment.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value


def _read(spark: SparkSession, job: BatchJob) -> DataFrame:
    source = job.source
    columns = list(job.read_columns)
    if isinstance(source, ParquetSource):
        return spark.read.parquet(str(source.path)).select(*columns)
    if isinstance(source, CsvSource):
        # The types pyarrow gives the first block (features fixed by the profile), as locally.
        first = next(source.batches(source.column_names, batch_size=1_000, types=job.types))
        schema = from_arrow_schema(pa.schema(first.schema), prefer_timestamp_ntz=True)
        return spark.read.csv(str(source.path), header=True, schema=schema).select(*columns)
    raise InvalidInputError(
        f"the Spark engine reads Parquet and CSV files; for {source.location!r} use the local engine "
        "or export the rows to Parquet first"
    )


def _ship(spark: SparkSession, job: BatchJob) -> str:
    """Add the artifact folder to the Spark job once per context; return its SparkFiles name."""
    context = spark.sparkContext
    key = (id(context), job.identity.digest)
    if key not in _SHIPPED:
        name = f"slipway-{job.identity.digest}"
        parent = Path(tempfile.mkdtemp(prefix="slipway-spark-"))
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        shutil.copytree(job.artifact.path, parent / name)
        context.addFile(str(parent / name), recursive=True)
        _SHIPPED[key] = name
    return _SHIPPED[key]


def _counts(staging: Path) -> tuple[int, int, int]:
    """Rows, flagged and rejected rows of the written parts, read by pyarrow on the driver.

    Row counts come from the Parquet footers and the two flag columns are tiny: this replaced a
    second Spark job over the output, which cost a job's start and a full scan.
    """
    rows = flagged = rejected = 0
    for path in _parts(staging):
        part = pq.ParquetFile(path)
        rows += part.metadata.num_rows
        if part.metadata.num_rows:
            columns = part.read(columns=[FLAGGED, REJECTED])
            flagged += int(pc.sum(columns.column(FLAGGED)).as_py() or 0)
            rejected += int(pc.sum(columns.column(REJECTED)).as_py() or 0)
    return rows, flagged, rejected


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def _commit(staging: Path, output: Path, job: BatchJob, rows: int, flagged: int, rejected: int) -> str:
    parts = []
    for path in _parts(staging):
        with path.open("rb") as handle:
            parts.append({"file": path.name, "sha256": hashlib.file_digest(handle, "sha256").hexdigest()})
    digest = sha256_hex(to_canonical_json(sorted([part["file"], part["sha256"]] for part in parts)))
    manifest: dict[str, Any] = {
        "model": job.identity.model,
        "version": job.identity.version,
        "artifact_digest": job.identity.digest,
        "run_id": job.identity.run_id,
        "input": job.source.location,
        "input_fingerprint": job.input_fingerprint,
        "rows_in": rows,
        "rows_out": rows,
        "rows_flagged": flagged,
        "rows_rejected": rejected,
        "output_digest": digest,
        "parts": parts,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if output.exists():  # overwrite: the old output steps aside only once the new one is whole
        old = output.with_name(f".{output.name}.slipway-old-{uuid.uuid4().hex[:8]}")
        os.rename(output, old)
        os.rename(staging, output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, output)
    return digest


_WORKER_ERROR = re.compile(r"^(?:[\w.]+\.)?(InvalidInputError|IntegrityError|NotFoundError): (.+)$")
_ERRORS: dict[str, type[SlipwayError]] = {
    "InvalidInputError": InvalidInputError,
    "IntegrityError": IntegrityError,
    "NotFoundError": NotFoundError,
}


def _translated(exc: PySparkException) -> SlipwayError:
    """Our own error raised in a Python worker comes back as its class and message."""
    for line in reversed(str(exc).splitlines()):
        found = _WORKER_ERROR.match(line.strip())
        if found:
            return _ERRORS[found[1]](found[2])
    if isinstance(exc, AnalysisException):
        return InvalidInputError(f"Spark cannot read the input: {_first_line(exc)}")
    return SlipwayError(f"the Spark job failed: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
