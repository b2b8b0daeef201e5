"""Micro-batching: concurrent requests are scored together, in one call of the Scorer.

Requests wait in a bounded queue (past ``queue_size`` they are refused at once, never queued
without limit). What is queued is taken up to ``max_batch_size`` rows, after waiting up to
``max_wait_ms`` for more, scored, and each request gets its slice of the result.

Scoring runs in a worker thread (``in_thread``) so the event loop keeps accepting and parsing
requests meanwhile: the requests arriving during one batch form the next; one batcher task takes
and scores batches. For a model whose call costs less than a thread hop (ONNX, ~10 µs) scoring on
the loop is faster (``in_thread=False``); then there is no batcher task: the request that finds no
batch forming leads one (it lets the requests parsed in the same loop turn join, scores them all
and answers its own without waiting for another task), and hands the lead to the first request
still queued. A lone request then costs one loop turn more than an unbatched endpoint, not three;
and once several such turns in a row gathered no one (one client at a time), a request that finds
the batcher idle is scored at once, without that turn, except every ``PROBE_EVERY``-th, which
still looks for company: as soon as one finds some, requests gather again.

If a merged batch fails on a client error (one request had a bad value), each of its requests
is scored alone, so a bad request never fails its neighbours and errors name its own rows.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from slipway.core.errors import SlipwayError
from slipway.scoring.result import ScoredBatch
from slipway.serving.errors import UnavailableError

RawColumns = Mapping[str, Sequence[Any] | np.ndarray]
ScoreFunction = Callable[[RawColumns], ScoredBatch]
BatchObserver = Callable[[int, int, ScoredBatch | None, float], None]

#: Batches in a row that gathered no other request before lone requests stop looking for company.
ALONE_BEFORE_EAGER = 8
#: While they do not look, one lone request in this many still yields a loop turn to find out.
PROBE_EVERY = 64


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request's share of a scored batch: rows ``start:stop`` of ``scored``."""

    scored: ScoredBatch
    start: int
    stop: int
    batch_rows: int
    queue_ms: float
    score_ms: float


@dataclass(slots=True)
class _Job:
    columns: RawColumns
    n_rows: int
    #: The job's answer; None (scoring on the loop) hands the job the lead of the next batch.
    future: asyncio.Future[Outcome | None]
    enqueued: float


class MicroBatcher:
    def __init__(
        self,
        score: ScoreFunction,
        *,
        max_batch_size: int = 64,
        max_wait_ms: float = 0.0,
        queue_size: int = 256,
        in_thread: bool = True,
        retry_after_s: int = 1,
        observe: BatchObserver | None = None,
        observe_depth: Callable[[int], None] | None = None,
    ) -> None:
        self._score = score
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.queue_size = queue_size
        self.in_thread = in_thread
        self.retry_after_s = retry_after_s
        self._observe = observe
        self._observe_depth = observe_depth
        self._jobs: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slipway-score")
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._busy = False  # a batch is being formed or scored
        self._alone = 0  # batches in a row led on the loop that gathered no other request
        self._unprobed = 0  # requests scored at once since one last looked for company

    @property
    def depth(self) -> int:
        """Requests waiting to be scored."""
        return len(self._jobs)

    @property
    def idle(self) -> bool:
        return not self._jobs and not self._busy

    def start(self) -> None:
        if self.in_thread:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="slipway-batcher")

    async def submit(self, columns: RawColumns, n_rows: int) -> Outcome:
        if self._closing:
            raise UnavailableError("the server is shutting down", retry_after_s=self.retry_after_s)
        if len(self._jobs) >= self.queue_size:
            raise UnavailableError(
                f"overloaded: {len(self._jobs)} requests are already waiting; retry shortly",
                retry_after_s=self.retry_after_s,
            )
        if not self._busy and not self._jobs and self._score_at_once():
            return self._score_now(columns, n_rows)
        loop = asyncio.get_running_loop()
        job = _Job(columns, n_rows, loop.create_future(), time.perf_counter())
        self._jobs.append(job)
        self._depth_changed()
        self._wakeup.set()
        if self.in_thread or self._busy:  # the batcher task, or the batch forming now, takes it
            try:
                outcome = await job.future
            except asyncio.CancelledError:
                if job.future.done() and not job.future.cancelled():  # handed the lead, but leaving
                    self._busy = False
                    self._hand_lead_on()
                raise
            if outcome is not None:
                return outcome
            job.future = loop.create_future()  # handed the lead of the next batch
        return await self._lead(job)

    def _score_at_once(self) -> bool:
        """Whether a request finding the batcher idle skips the loop turn that gathers company:
        only on the loop, without a wait, and while recent turns found no one (see the module doc)."""
        if self.in_thread or self.max_wait_s > 0 or self._alone < ALONE_BEFORE_EAGER:
            return False
        self._unprobed += 1
        if self._unprobed >= PROBE_EVERY:
            self._unprobed = 0
            return False
        return True

    def _score_now(self, columns: RawColumns, n_rows: int) -> Outcome:
        """Score one request alone, here on the loop: errors go to its caller as they are."""
        started = time.perf_counter()
        try:
            scored = self._score(columns)
        except Exception:
            if self._observe is not None:
                self._observe(1, n_rows, None, (time.perf_counter() - started) * 1e3)
            raise
        score_ms = (time.perf_counter() - started) * 1e3
        if self._observe is not None:
            self._observe(1, n_rows, scored, score_ms)
        return Outcome(scored, 0, n_rows, n_rows, 0.0, score_ms)

    async def stop(self) -> None:
        """Refuse new requests, finish the queued ones, then stop the task and its thread."""
        self._closing = True
        while not self.idle:
            await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            if not self._jobs:
                self._wakeup.clear()
                await self._wakeup.wait()
            self._busy = True
            try:
                await self._next_batch()
            finally:
                self._busy = False

    async def _lead(self, job: _Job) -> Outcome:
        """Score batches on the loop until ``job`` is answered, then pass the lead on."""
        self._busy = True
        try:
            while not job.future.done():
                await self._next_batch()
        finally:
            if not job.future.done():  # the leader was cancelled before its batch was taken
                job.future.cancel()
            self._busy = False
            self._hand_lead_on()
        outcome = job.future.result()
        assert outcome is not None, "only a waiting job is handed the lead"
        return outcome

    def _hand_lead_on(self) -> None:
        """The first request still queued leads the next batch (requests that left are dropped)."""
        while self._jobs and self._jobs[0].future.done():
            self._jobs.popleft()
            self._depth_changed()
        if self._jobs:
            self._busy = True  # claimed for it: requests arriving meanwhile queue behind it
            self._jobs[0].future.set_result(None)

    async def _next_batch(self) -> None:
        await self._let_arrivals_queue()
        jobs = self._take()
        if not self.in_thread:
            self._alone = self._alone + 1 if len(jobs) == 1 else 0
        rows = sum(job.n_rows for job in jobs)
        if self.max_wait_s > 0 and rows < self.max_batch_size:
            deadline = time.perf_counter() + self.max_wait_s
            while rows < self.max_batch_size and (left := deadline - time.perf_counter()) > 0:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=left)
                except TimeoutError:
                    break
                more = self._take(self.max_batch_size - rows)
                jobs.extend(more)
                rows += sum(job.n_rows for job in more)
        live = [job for job in jobs if not job.future.done()]  # a client that left is not scored
        for group in _by_columns(live) if len(live) > 1 else [live]:
            await self._score_group(group)

    async def _let_arrivals_queue(self) -> None:
        """Yield to the event loop while that lets more requests join the queue.

        Requests parsed in the same loop turns as the first one then join its batch; with one
        client this costs a single loop turn.
        """
        while len(self._jobs) < self.max_batch_size:
            queued = len(self._jobs)
            await asyncio.sleep(0)
            if len(self._jobs) == queued:
                return

    def _take(self, room: int | None = None) -> list[_Job]:
        """Queued jobs up to ``room`` rows (always at least one job when any is queued)."""
        room = self.max_batch_size if room is None else room
        taken: list[_Job] = []
        rows = 0
        while self._jobs and (not taken or rows + self._jobs[0].n_rows <= room):
            job = self._jobs.popleft()
            taken.append(job)
            rows += job.n_rows
        if taken:
            self._depth_changed()
        return taken

    def _depth_changed(self) -> None:
        """Tell ``observe_depth`` the queue's new length (called only when it changed)."""
        if self._observe_depth is not None:
            self._observe_depth(len(self._jobs))

    async def _score_group(self, jobs: list[_Job]) -> None:
        columns = jobs[0].columns if len(jobs) == 1 else merge_columns([job.columns for job in jobs])
        rows = sum(job.n_rows for job in jobs)
        started = time.perf_counter()
        try:
            scored = await self._call(columns)
        except SlipwayError as error:
            if len(jobs) > 1:
                for job in jobs:
                    await self._score_group([job])
                return
            self._fail(jobs, error, started, rows)
            return
        except Exception as error:  # noqa: BLE001 - a server fault: every request of the batch gets it
            self._fail(jobs, error, started, rows)
            return
        score_ms = (time.perf_counter() - started) * 1e3
        if self._observe is not None:
            self._observe(len(jobs), rows, scored, score_ms)
        offset = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(
                    Outcome(
                        scored,
                        offset,
                        offset + job.n_rows,
                        rows,
                        (started - job.enqueued) * 1e3,
                        score_ms,
                    )
                )
            offset += job.n_rows

    def _fail(self, jobs: list[_Job], error: Exception, started: float, rows: int) -> None:
        if self._observe is not None:
            self._observe(len(jobs), rows, None, (time.perf_counter() - started) * 1e3)
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(error)

    async def _call(self, columns: RawColumns) -> ScoredBatch:
        if not self.in_thread:
            return self._score(columns)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._score, columns)


def _by_columns(jobs: list[_Job]) -> list[list[_Job]]:
    """Jobs grouped by their column names: only requests with the same columns are merged."""
    groups: dict[frozenset[str], list[_Job]] = {}
    for job in jobs:
        groups.setdefault(frozenset(job.columns), []).append(job)
    return list(groups.values())


def merge_columns(parts: list[RawColumns]) -> dict[str, Sequence[Any] | np.ndarray]:
    """The rows of several requests with the same columns, as one batch (in order)."""
    merged: dict[str, Sequence[Any] | np.ndarray] = {}
    for name in parts[0]:
        values = [part[name] for part in parts]
        if all(isinstance(v, np.ndarray) and v.dtype != object for v in values):
            merged[name] = np.concatenate(values)
        else:
            merged[name] = list(
                itertools.chain.from_iterable(v.tolist() if isinstance(v, np.ndarray) else v for v in values)
            )
    return merged
