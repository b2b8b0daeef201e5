"""Per-slot counters a serving worker keeps in memory and flushes as ``StatsWindow`` records.

Recording is a few integer additions under a lock, cheap enough for the request path; the
registry sees one row per slot and worker per flush, never one per request.
"""

from __future__ import annotations

import threading

from slipway.core.audit import utc_now_iso
from slipway.core.deployment import StatsWindow
from slipway.rollout.sketch import LATENCY_BOUNDS_MS, Reservoir, latency_bucket

SAMPLE_SIZE = 200  # predictions kept per slot and window


class SlotStats:
    """What one worker saw of one slot (one version) since the last flush."""

    def __init__(self, deployment: str, slot: str, version: int, *, worker: str) -> None:
        self.deployment, self.slot, self.version, self.worker = deployment, slot, version, worker
        self._lock = threading.Lock()
        self._reset(utc_now_iso())

    def _reset(self, started: str) -> None:
        self._started = started
        self._requests = self._errors = self._flagged = 0
        self._latency = [0] * len(LATENCY_BOUNDS_MS)
        self._predictions = Reservoir(SAMPLE_SIZE)
        self._extra: dict[str, float] = {}

    def record(
        self,
        latency_ms: float,
        *,
        error: bool = False,
        flagged: bool = False,
        prediction: float | None = None,
    ) -> None:
        with self._lock:
            self._requests += 1
            self._errors += error
            self._flagged += flagged
            self._latency[latency_bucket(latency_ms)] += 1
            if prediction is not None:
                self._predictions.add(prediction)

    def add(self, key: str, amount: float = 1.0) -> None:
        """Count something else about the slot (shadow agreements, prediction deltas)."""
        with self._lock:
            self._extra[key] = self._extra.get(key, 0.0) + amount

    def flush(self) -> StatsWindow | None:
        """The window since the last flush (None if nothing happened), and start a new one."""
        now = utc_now_iso()
        with self._lock:
            if self._requests == 0 and not self._extra:
                self._started = now
                return None
            window = StatsWindow(
                deployment=self.deployment,
                slot=self.slot,
                version=self.version,
                worker=self.worker,
                window_start=self._started,
                window_end=now,
                requests=self._requests,
                errors=self._errors,
                flagged=self._flagged,
                latency_counts=self._latency,
                predictions=list(self._predictions.values),
                extra=dict(self._extra),
            )
            self._reset(now)
        return window
