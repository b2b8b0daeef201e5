"""Bounded, buffered background writes: the request path hands records over and never waits.

A request calls ``offer``, which appends to a bounded buffer and returns at once; a thread
writes batches to the sink. When the sink is slower than the traffic the buffer fills and new
records are dropped and counted, never queued without bound (KServe's request logger, without
backpressure, ran servers out of memory). ``close`` writes what is left.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
log = logging.getLogger(__name__)


class BufferedWriter(Generic[Item]):
    def __init__(
        self,
        sink: Callable[[Sequence[Item]], None],
        *,
        capacity: int = 10_000,
        batch_size: int = 500,
        interval_s: float = 1.0,
        name: str = "slipway-writer",
    ) -> None:
        self.sink, self.capacity, self.batch_size, self.interval_s = sink, capacity, batch_size, interval_s
        self.dropped = self.written = self.failed = 0
        self._items: deque[Item] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def offer(self, item: Item) -> bool:
        """Buffer ``item`` for writing; False (and counted) when the buffer is full."""
        with self._lock:
            if len(self._items) >= self.capacity or self._closing:
                self.dropped += 1
                return False
            self._items.append(item)
            if len(self._items) >= self.batch_size:
                self._wake.set()
        return True

    @property
    def pending(self) -> int:
        return len(self._items)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking items and write what is buffered (within ``timeout_s``)."""
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            while batch := self._take():
                self._write(batch)
            if self._closing:
                return

    def _take(self) -> list[Item]:
        with self._lock:
            count = min(self.batch_size, len(self._items))
            return [self._items.popleft() for _ in range(count)]

    def _write(self, batch: list[Item]) -> None:
        try:
            self.sink(batch)
            self.written += len(batch)
        except Exception:  # a failing sink must not stop the writer; the batch is counted lost
            self.failed += len(batch)
            log.exception("dropped %d buffered records: the sink failed", len(batch))
