"""The local engine: stream the input in parts, score them in worker processes, commit atomically.

The driver reads the input with pyarrow and cuts it into parts of ``chunk_rows`` rows; each part
goes to a worker process (started once, with the artifact loaded and verified once), which scores
it and writes it to the staging folder. At most two parts per worker are in flight, so memory
follows the chunk size, not the input size. ``workers=0`` scores in the calling process.

Starting a worker (a new interpreter importing numpy, pyarrow and the model's runtime, then
loading the artifact) took ~2 s here: a 1,000,000-row input scored in 3.9 s with two workers and
in 2.9 s in the driver alone. So the driver scores too: until the first worker is ready, and
whenever every worker already has its parts in flight (instead of waiting). By default there is
one worker per core but one, the driver's.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pyarrow as pa

from slipway.batch.chunks import check_chunk_rows, fixed_chunks
from slipway.batch.engine import BatchJob, BatchOutcome
from slipway.batch.progress import ProgressReporter
from slipway.batch.staging import Staging
from slipway.batch.worker import (
    ArtifactSpec,
    PartResult,
    ScoringPlan,
    peak_rss,
    score_part,
    start_worker,
    warm,
)
from slipway.core.errors import InvalidInputError, SlipwayError

IN_FLIGHT_PER_WORKER = 2


def check_workers(workers: int) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= 256:
        raise InvalidInputError(
            f"invalid number of workers {workers!r}: use 1 to 256 processes, or 0 to score in this process"
        )


class LocalBatchEngine:
    """Score on this machine with ``workers`` processes besides the driver (default: one per CPU
    core but one; 0: the driver alone).

    ``threads``: threads each worker's model may use (default: cores divided by workers, at
    least 1). ``start`` launches the workers early, so they load the artifact while the caller
    loads its own copy and checks the input, instead of after.
    """

    name = "local"

    def __init__(self, *, workers: int | None = None, threads: int | None = None) -> None:
        if workers is not None:
            check_workers(workers)
        self.workers = workers
        self.threads = threads
        self._pool: tuple[ArtifactSpec, Executor] | None = None
        self._warming: list[Future[int]] = []  # the workers' artifact loads, started by ``start``

    def start(self, spec: ArtifactSpec) -> None:
        workers = self._worker_count(None, 1)
        if workers == 0 or self._pool is not None:
            return
        pool = _executor(workers, self._threads(workers))
        # The pool starts a process per waiting task: all load at once.
        self._warming = [pool.submit(warm, spec) for _ in range(workers)]
        self._pool = (spec, pool)

    def close(self) -> None:
        if self._pool is not None:
            pool = self._pool[1]
            if self._loading():
                _stop_loading_workers(pool)  # never used: do not wait for them to finish loading
            else:
                pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._warming = []

    def run(self, job: BatchJob, *, progress: ProgressReporter) -> BatchOutcome:
        check_chunk_rows(job.chunk_rows)
        staging = Staging.open(
            Path(job.output),
            key=job.resume_key(),
            run_id=job.identity.run_id,
            resume=job.resume,
            overwrite=job.overwrite,
        )
        try:
            return self._run(job, staging, progress)
        except BaseException:
            staging.abandon()
            raise

    def _run(self, job: BatchJob, staging: Staging, progress: ProgressReporter) -> BatchOutcome:
        chunks = fixed_chunks(
            job.source.batches(job.read_columns, batch_size=job.chunk_rows, types=job.types), job.chunk_rows
        )
        first = next(chunks, None)
        if first is None:
            raise InvalidInputError(f"input {job.source.location!r} has no rows to score")
        plan = job.plan(job.layout(first.schema, run_id=staging.run_id))
        total = job.source.count_rows()
        progress.start(total)
        workers = self._worker_count(total, job.chunk_rows)
        try:
            executor = self._started(job.spec(), workers)
            by_driver = self._score_all(
                job, plan, staging, _prepend(first, chunks), executor, workers, progress
            )
        finally:
            self.close()
        progress.stop()
        parts = list(staging.parts.values())
        summary = _summary(job, parts)
        digest = staging.commit(summary)
        return BatchOutcome(
            engine=self.name,
            run_id=staging.run_id,
            output=str(job.output),
            output_digest=digest,
            input_fingerprint=job.input_fingerprint,
            rows_in=summary["rows_in"],
            rows_out=summary["rows_out"],
            rows_flagged=summary["rows_flagged"],
            rows_rejected=summary["rows_rejected"],
            parts=len(parts),
            parts_resumed=len(staging.resumed),
            peak_rss={"driver": peak_rss(), "worker": max((p.peak_rss for p in parts), default=0)},
            artifact_loads=(workers or 1) + (1 if by_driver else 0),
            runtime=",".join(sorted({p.runtime for p in parts if p.runtime})) or None,
        )

    def _score_all(
        self,
        job: BatchJob,
        plan: ScoringPlan,
        staging: Staging,
        chunks: Iterator[pa.Table],
        executor: Executor,
        workers: int,
        progress: ProgressReporter,
    ) -> int:
        """Score every part not resumed; the number the driver scored itself."""
        pending: dict[Future[PartResult], tuple[int, int]] = {}
        limit = workers * IN_FLIGHT_PER_WORKER
        by_driver = 0
        for index, chunk in enumerate(chunks):
            if index in staging.resumed:
                progress.advance(chunk.num_rows)
                continue
            table = _conform(chunk, plan)
            _collect({future for future in pending if future.done()}, pending, staging, job, progress)
            # Rather than wait for a worker (none has loaded the artifact yet, or each has its
            # parts in flight), the driver scores the part itself (done when submit returns).
            driver = workers > 0 and (self._loading() or len(pending) >= limit)
            scorer = _InlineExecutor() if driver else executor
            future = scorer.submit(score_part, plan, index, table, str(staging.folder))
            pending[future] = (index * job.chunk_rows, index * job.chunk_rows + chunk.num_rows - 1)
            by_driver += driver
        while pending:
            _collect(wait(pending, return_when=FIRST_COMPLETED).done, pending, staging, job, progress)
        return by_driver

    def _loading(self) -> bool:
        """Whether workers were launched and none has loaded the artifact yet."""
        return bool(self._warming) and not any(future.done() for future in self._warming)

    def _started(self, spec: ArtifactSpec, workers: int) -> Executor:
        """The pool ``start`` launched for this artifact, or a new one."""
        if self._pool is not None and self._pool[0] == spec and workers > 0:
            return self._pool[1]
        self.close()
        executor = _executor(workers, self._threads(workers))
        self._pool = (spec, executor)
        return executor

    def _worker_count(self, total: int | None, chunk_rows: int) -> int:
        workers = self.workers if self.workers is not None else (os.cpu_count() or 1) - 1
        if total is not None and workers > 0:
            workers = min(workers, max(1, -(-total // chunk_rows)))
        return workers

    def _threads(self, workers: int) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // max(1, workers))


def _collect(
    done: set[Future[PartResult]],
    pending: dict[Future[PartResult], tuple[int, int]],
    staging: Staging,
    job: BatchJob,
    progress: ProgressReporter,
) -> None:
    """Commit finished parts; on a failure, raise the earliest failing part's error."""
    failures: list[tuple[tuple[int, int], BaseException]] = []
    while done:
        for future in sorted(done, key=lambda f: pending[f][0]):
            rows = pending.pop(future)
            error = future.exception()
            if error is not None:
                failures.append((rows, error))
                continue
            part = future.result()
            staging.record(part)
            progress.advance(part.rows)
        # After a failure, let the parts in flight finish (those that succeed stay committed for
        # --resume), so the error reported is that of the earliest bad part, whatever the timing.
        done = wait(pending).done if failures and pending else set()
    if failures:
        (first_row, last_row), error = min(failures, key=lambda failure: failure[0])
        translated = _part_error(error, first_row, last_row)
        if translated is error:
            raise error
        raise translated from error


def _part_error(error: BaseException, first_row: int, last_row: int) -> BaseException:
    if isinstance(error, BrokenProcessPool):
        return SlipwayError(
            f"a worker process died while scoring input rows {first_row:,} to {last_row:,} ({error}). "
            "If it ran out of memory, lower chunk_rows (--chunk-rows); if Slipway.score is called "
            "from a script, guard the call with `if __name__ == '__main__':` (worker processes "
            "import the main module), or pass workers=0. Committed parts are kept for --resume"
        )
    if isinstance(error, SlipwayError):
        # Same class, with where in the input it happened (rows inside the message are per part).
        return type(error)(f"input rows {first_row:,} to {last_row:,}: {error}")
    return error


def _conform(chunk: pa.Table, plan: ScoringPlan) -> pa.Table:
    """Give kept columns the types of the first part, so every part has one schema."""
    kept = plan.layout.kept
    if not kept.names:
        return chunk
    current = chunk.select(kept.names).schema
    if current.equals(kept):
        return chunk
    try:
        for name in kept.names:
            index = chunk.schema.get_field_index(name)
            chunk = chunk.set_column(index, kept.field(name), chunk.column(name).cast(kept.field(name).type))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(f"kept columns change type within the input: {exc}") from exc
    return chunk


def _summary(job: BatchJob, parts: list[PartResult]) -> dict[str, Any]:
    rows = sum(part.rows for part in parts)
    return {
        "model": job.identity.model,
        "version": job.identity.version,
        "artifact_digest": job.identity.digest,
        "input": job.source.location,
        "input_fingerprint": job.input_fingerprint,
        "chunk_rows": job.chunk_rows,
        "rows_in": rows,
        "rows_out": rows,
        "rows_flagged": sum(part.flagged for part in parts),
        "rows_rejected": sum(part.rejected for part in parts),
    }


def _prepend(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest


class _InlineExecutor(Executor):
    """Runs each task at once in this process (``workers=0``): no pool, same code path."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - delivered through the future, as a pool would
            future.set_exception(error)
        return future


def _stop_loading_workers(pool: Executor) -> None:
    """Stop a pool whose workers are still loading the artifact and were given no part."""
    terminate = getattr(pool, "terminate_workers", None)  # public from Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # 3.11-3.13: the pool's own
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)  # reaped here: no process outlives the run


def _executor(workers: int, threads: int) -> Executor:
    if workers == 0:
        return _InlineExecutor()
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_worker_context(),
        initializer=start_worker,
        # The driver's environment now (lookup URLs may have been set since the fork server started).
        initargs=(threads, dict(os.environ)),
    )


def _worker_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked from a fork server where there is one, else spawned.

    Not forked from the driver, which holds pyarrow's and OpenMP's threads (fork does not
    survive them). A spawned worker imports the driver's main module again (for ``python -m
    benchmarks.batch``, scikit-learn, scipy and pandas: 1.3 s) before it can load the artifact;
    the fork server imports only this module, once, and each worker starts as its fork, in
    milliseconds. The fork server started with the driver's environment of that moment: each
    worker is given the driver's environment of its own start (``start_worker``), as a spawned
    one inherits it.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([start_worker.__module__])
    return context
