"""Shadow scoring off the request path: a bounded queue drained in batches by one thread.

The request path only ``submit``s a copy (never waits, drops and counts when the queue is
full). The thread takes what is queued, up to ``max_batch`` copies, and hands them to ``handle``
in one call (the candidate scores them together: one model call, not one per request), which
says how many failed; then it pauses ``pause_s``. Copies pile up meanwhile, so the candidate runs
rarely and in large batches and the GIL stays with the answer path. Failures (all of a batch
whose handler raises) are counted and forgotten: they never reach an answer or its latency.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
log = logging.getLogger(__name__)


class ShadowRunner(Generic[Item]):
    def __init__(
        self,
        handle: Callable[[list[Item]], int],
        *,
        capacity: int = 1000,
        max_batch: int = 256,
        pause_s: float = 0.02,
        name: str = "slipway-shadow",
    ) -> None:
        self.handle, self.max_batch, self.pause_s = handle, max_batch, pause_s
        self._items: queue.Queue[Item | None] = queue.Queue(maxsize=capacity)
        self.dropped = self.done = self.failed = self.batches = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> bool:
        """Queue ``item`` for the candidate; False (and counted) when the queue is full."""
        try:
            self._items.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Score what is queued, then stop (within ``timeout_s``)."""
        try:
            self._items.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout_s)

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._items.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._items.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            self._handle(batch)
            if not closing and self.pause_s > 0:
                time.sleep(self.pause_s)  # lower priority than answers: let copies accumulate

    def _handle(self, batch: list[Item]) -> None:
        self.batches += 1
        try:
            failed = self.handle(batch)
        except Exception:  # shadow failures are data, never a crash
            self.failed += len(batch)
            log.debug("shadow batch of %d failed", len(batch), exc_info=True)
            return
        self.failed += failed
        self.done += len(batch) - failed
