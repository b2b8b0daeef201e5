"""Liveness, readiness and the self-probe.

Ready means: the model is loaded, a first scoring call (the warm-up probe) succeeded, and every
lookup source answers (asked again at most every ``readiness_ttl_s``, off the event loop). The
self-probe scores a known record through the same queue and Scorer as requests, at a fixed
interval, and keeps its latency and result for ``/healthz`` and the metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slipway.core.errors import SlipwayError
from slipway.serving.batcher import Outcome


@dataclass
class ProbeResult:
    at: str
    ok: bool
    latency_ms: float
    prediction: Any = None
    rejected: bool | None = None
    flags: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "ok": self.ok,
            "latency_ms": round(self.latency_ms, 3),
            "prediction": self.prediction,
            "rejected": self.rejected,
            "flags": self.flags,
            "error": self.error,
        }


class SelfProbe:
    def __init__(
        self,
        record: dict[str, Any],
        submit: Callable[[dict[str, list[Any]], int], Awaitable[Outcome]],
        *,
        on_result: Callable[[ProbeResult], None] | None = None,
    ) -> None:
        self.record = record
        self._submit = submit
        self._on_result = on_result
        self.last: ProbeResult | None = None
        self.runs = 0
        self.failures = 0

    async def run(self) -> ProbeResult:
        started = time.perf_counter()
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        try:
            outcome = await self._submit({key: [value] for key, value in self.record.items()}, 1)
        except (SlipwayError, ValueError, TypeError, RuntimeError) as error:
            result = ProbeResult(
                at, False, (time.perf_counter() - started) * 1e3, error=f"{type(error).__name__}: {error}"
            )
        else:
            row = outcome.scored.row(outcome.start)
            result = ProbeResult(
                at,
                True,
                (time.perf_counter() - started) * 1e3,
                prediction=row["prediction"],
                rejected=row["rejected"],
                flags=[flag["code"] for flag in row["flags"]],
            )
        self.runs += 1
        self.failures += 0 if result.ok else 1
        self.last = result
        if self._on_result is not None:
            self._on_result(result)
        return result

    async def run_every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.run()

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "runs": self.runs,
            "failures": self.failures,
            "last": None if self.last is None else self.last.to_dict(),
        }


class Readiness:
    """Whether the lookups answer, asked at most every ``ttl_s`` and never on the event loop."""

    def __init__(self, stages: Sequence[Any], *, ttl_s: float) -> None:
        self._lookups = [stage for stage in stages if callable(getattr(stage, "check_reachable", None))]
        self.ttl_s = ttl_s
        self._checked_at = float("-inf")
        self._status: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def lookups(self) -> dict[str, str]:
        """``{lookup: "ok" | "error: ..."}``."""
        async with self._lock:
            if time.monotonic() - self._checked_at >= self.ttl_s:
                self._status = await asyncio.to_thread(self._check)
                self._checked_at = time.monotonic()
        return self._status

    def _check(self) -> dict[str, str]:
        status = {}
        for stage in self._lookups:
            name = getattr(getattr(stage, "spec", None), "name", stage.name)
            try:
                stage.check_reachable()
            except SlipwayError as error:
                status[name] = f"error: {error}"
            else:
                status[name] = "ok"
        return status
