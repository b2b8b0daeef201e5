"""Stats windows as a serving worker would flush them, drawn from chosen distributions."""

from __future__ import annotations

import numpy as np

from slipway.core.audit import utc_now_iso
from slipway.core.deployment import StatsWindow
from slipway.rollout.sketch import LATENCY_BOUNDS_MS, latency_bucket


def window(
    slot: str,
    version: int,
    *,
    requests: int,
    error_rate: float = 0.001,
    flag_rate: float = 0.01,
    latency_ms: float = 2.0,
    prediction_shift: float = 0.0,
    seed: int = 0,
    deployment: str = "apartments",
    at: str | None = None,
) -> StatsWindow:
    rng = np.random.default_rng(seed)
    latencies = rng.lognormal(np.log(latency_ms), 0.3, size=requests)
    counts = [0] * len(LATENCY_BOUNDS_MS)
    for value in latencies:
        counts[latency_bucket(float(value))] += 1
    predictions = rng.normal(3000 + prediction_shift, 600, size=min(requests, 200))
    now = at or utc_now_iso()
    return StatsWindow(
        deployment=deployment,
        slot=slot,
        version=version,
        worker="w1",
        window_start=now,
        window_end=now,
        requests=requests,
        errors=int(rng.binomial(requests, error_rate)),
        flagged=int(rng.binomial(requests, flag_rate)),
        latency_counts=counts,
        predictions=[float(p) for p in predictions],
    )
