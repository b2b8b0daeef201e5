"""Mergeable summaries of what a slot did: a fixed-bucket latency histogram and a prediction sample.

Every worker uses the same bucket bounds, so histograms from any number of workers and replicas
add up bucket by bucket; quantiles read from them are exact to one bucket (15%), which is far
finer than the 2x ratio a canary looks for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

_FIRST_MS = 0.05
_GROWTH = 1.15
_BUCKETS = 110  # 0.05 ms to ~250 s
LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(_FIRST_MS * _GROWTH**i for i in range(_BUCKETS))


def latency_bucket(latency_ms: float) -> int:
    """Index of the bucket holding ``latency_ms``: the first bound >= it (the last one if beyond)."""
    if latency_ms <= _FIRST_MS:
        return 0
    index = math.ceil(math.log(latency_ms / _FIRST_MS, _GROWTH) - 1e-9)
    return min(index, _BUCKETS - 1)


def merge_counts(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = [0] * _BUCKETS
    for counts in histograms:
        for index, count in enumerate(counts[:_BUCKETS]):
            total[index] += int(count)
    return total


def quantile_ms(counts: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (0-1) of a histogram as its bucket's upper bound; None when empty."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return LATENCY_BOUNDS_MS[index]
    return LATENCY_BOUNDS_MS[-1]


class Reservoir:
    """A uniform random sample of at most ``size`` values from a stream (Vitter's algorithm R)."""

    def __init__(self, size: int, *, seed: int | None = None) -> None:
        self.size = size
        self.values: list[float] = []
        self.seen = 0
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = self._random.randrange(self.seen)
        if slot < self.size:
            self.values[slot] = value
