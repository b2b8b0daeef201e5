"""Timing helpers shared by the benchmarks (medians, after a warm-up)."""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median
from typing import Any


def per_call(call: Callable[[], Any], calls: int) -> float:
    """Median seconds per call of ``call`` over ``calls`` calls (after 20 warm-up calls)."""
    for _ in range(20):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return median(samples)


def once(call: Callable[[], Any]) -> float:
    """Seconds of one call."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
