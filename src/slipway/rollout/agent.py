"""The part of a serving worker that keeps it in step with its deployment in the registry.

Every ``interval_s`` it flushes the worker's per-slot stats windows, runs the canary controller
(every worker may: compare-and-set lets exactly one of them move a step), and re-reads the
deployment, so all workers and replicas route by the same policy and a restarted server resumes
the stored step. ``on_change`` is told when the deployment's generation changed (e.g. to load a
new candidate slot).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slipway.core.deployment import DeploymentRecord
from slipway.rollout.routing import Traffic
from slipway.rollout.service import Rollouts
from slipway.rollout.stats import SlotStats

log = logging.getLogger(__name__)


class DeploymentAgent:
    def __init__(
        self,
        rollouts: Rollouts,
        name: str,
        *,
        worker: str,
        interval_s: float = 2.0,
        controller: bool = True,
        on_change: Callable[[DeploymentRecord], None] | None = None,
    ) -> None:
        self.rollouts, self.name, self.worker = rollouts, name, worker
        self.interval_s, self.controller, self.on_change = interval_s, controller, on_change
        self.record = rollouts.deployments.get(name)
        self.traffic = Traffic.of(self.record)
        self._stats: dict[str, SlotStats] = {}
        self._retired: list[SlotStats] = []  # counters of a replaced version, flushed once more
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def stats(self, slot: str, version: int) -> SlotStats:
        """The counters of ``slot`` serving ``version`` in this worker (new ones when it changed)."""
        current = self._stats.get(slot)
        if current is not None and current.version == version:
            return current
        with self._lock:
            current = self._stats.get(slot)
            if current is None or current.version != version:
                current = SlotStats(self.name, slot, version, worker=self.worker)
                self._retired = [
                    *getattr(self, "_retired", []),
                    *([self._stats[slot]] if slot in self._stats else []),
                ]
                self._stats[slot] = current
        return current

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"slipway-agent-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval_s * 5 + 5)
        self.flush()

    def flush(self) -> None:
        with self._lock:
            counters = [*self._stats.values(), *self._retired]
            self._retired = []
        windows = [w for w in (c.flush() for c in counters) if w is not None]
        self.rollouts.deployments.record_stats(windows)

    def refresh(self) -> DeploymentRecord:
        record = self.rollouts.deployments.get(self.name)
        if record.generation != self.record.generation:
            self.record, self.traffic = record, Traffic.of(record)
            if self.on_change is not None:
                self.on_change(record)
        return record

    def step(self) -> None:
        """One round: flush, control, refresh. Failures are logged and retried next round."""
        for action in (self.flush, self._control, self.refresh):
            try:
                action()
            except Exception:  # the registry may be briefly unreachable; serving goes on
                self.errors += 1
                log.exception("deployment agent: %s failed", getattr(action, "__name__", action))

    def _control(self) -> None:
        if self.controller:
            self.rollouts.tick(self.name)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.step()
