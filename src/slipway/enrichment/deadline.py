"""Run a blocking call with a deadline, in a small bounded pool, so a stuck database costs at most
the timeout and stuck calls cannot pile up.

A thread cannot be killed, so the caller simply stops waiting at the deadline; the call keeps its
worker until the source's own timeout ends it (statement/busy/socket timeouts, set by the
adapters). While every worker is still busy with such calls, a new call waits for a free worker
only until its own deadline and then fails: there are never more than ``workers`` calls in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from slipway.enrichment.source import LookupSourceError

T = TypeVar("T")


class DeadlineRunner:
    def __init__(self, *, workers: int = 2, name: str = "lookup") -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"slipway-{name}")
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._running = 0
        self._closed = False

    def run(self, call: Callable[[], T], *, timeout_s: float) -> T:
        """``call()``'s result, or LookupSourceError if it fails or takes longer than ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        if self._closed:
            raise LookupSourceError("the lookup was closed")
        if not self._slots.acquire(timeout=timeout_s):
            raise LookupSourceError(
                f"no answer within {timeout_s * 1000:.0f} ms: {self.workers} earlier queries are still "
                "running past their deadline"
            )
        try:
            future: Future[T] = self._pool.submit(call)
        except RuntimeError as exc:  # the pool was shut down meanwhile
            self._slots.release()
            raise LookupSourceError("the lookup was closed") from exc
        with self._lock:
            self._running += 1
        future.add_done_callback(self._done)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise LookupSourceError(f"no answer within {timeout_s * 1000:.0f} ms") from None

    def _done(self, _: Future[T]) -> None:
        with self._lock:
            self._running -= 1
        self._slots.release()

    @property
    def running(self) -> int:
        """Calls still running, including ones whose caller stopped waiting at the deadline."""
        return self._running

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
