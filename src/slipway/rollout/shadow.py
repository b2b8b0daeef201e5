"""Shadow scoring off the request path: a bounded queue and one thread.

The request path only ``submit``s a job (never waits, drops when the queue is full); the job
scores the candidate and records its latency, failures and agreement with stable's answer.
A job that raises is counted and forgotten: it never reaches the answer or its latency.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class ShadowRunner:
    def __init__(self, *, capacity: int = 1000, name: str = "slipway-shadow") -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=capacity)
        self.dropped = self.done = self.failed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> bool:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        try:
            self._jobs.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
                self.done += 1
            except Exception:  # shadow failures are data, never a crash
                self.failed += 1
                log.debug("shadow job failed", exc_info=True)
