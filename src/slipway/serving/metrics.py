"""Prometheus metrics of one served model version, on ``/metrics``.

Every series carries ``model`` and ``version``. Lookup cache hit rate is
``slipway_lookup_keys_total{source="cache"} / sum(slipway_lookup_keys_total)``. Process CPU and
memory are the standard ``process_*`` series.

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``slipway serve --workers``)
makes every worker write its counters to files there and any worker's ``/metrics`` adds them
all up (prometheus_client's multiprocess mode); ``process_*`` then describe the worker that
answered the scrape.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from slipway.scoring.result import ScoredBatch

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServingMetrics:
    def __init__(self, *, model: str, version: str, digest: str, runtime: str) -> None:
        self.labels = {"model": model, "version": version}
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_dir() is not None
        if not self.multiprocess:
            ProcessCollector(registry=self.registry)
        base = ("model", "version")
        r = self.registry
        self.requests = Counter(
            "slipway_requests",
            "Requests answered, by protocol and HTTP status.",
            (*base, "protocol", "code"),
            registry=r,
        )
        self.errors = Counter(
            "slipway_errors", "Requests that failed, by kind of error.", (*base, "kind"), registry=r
        )
        self.latency = Histogram(
            "slipway_request_duration_seconds",
            "Time from request received to response ready.",
            (*base, "protocol"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "slipway_batch_rows", "Rows per scored micro-batch.", base, buckets=BATCH_BUCKETS, registry=r
        )
        self.batch_requests = Histogram(
            "slipway_batch_requests",
            "Requests per scored micro-batch.",
            base,
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "slipway_queue_depth",
            "Requests waiting to be scored.",
            base,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.rows = Counter("slipway_rows", "Rows scored, by outcome.", (*base, "outcome"), registry=r)
        self.lookup_latency = Histogram(
            "slipway_lookup_duration_seconds",
            "Time one lookup took for one micro-batch (cache and query).",
            (*base, "lookup"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lookup_keys = Counter(
            "slipway_lookup_keys",
            "Distinct lookup keys, answered from the cache or by a query.",
            (*base, "lookup", "source"),
            registry=r,
        )
        self.lookup_failures = Counter(
            "slipway_lookup_failures",
            "Micro-batches whose lookup query failed or timed out.",
            (*base, "lookup"),
            registry=r,
        )
        self.probe_latency = Gauge(
            "slipway_probe_duration_seconds",
            "Latency of the last self-probe.",
            base,
            registry=r,
            multiprocess_mode="liveall",
        )
        self.probe_success = Gauge(
            "slipway_probe_success",
            "1 if the last self-probe scored, else 0.",
            base,
            registry=r,
            multiprocess_mode="liveall",
        )
        info = Gauge(
            "slipway_model_info",
            "The served model version.",
            (*base, "digest", "runtime"),
            registry=r,
            multiprocess_mode="liveall",
        )
        info.labels(model=model, version=version, digest=digest, runtime=runtime).set(1)
        self._depth = self.queue_depth.labels(**self.labels)
        self._batch_rows = self.batch_rows.labels(**self.labels)
        self._batch_requests = self.batch_requests.labels(**self.labels)
        self._rows = {
            outcome: self.rows.labels(**self.labels, outcome=outcome)
            for outcome in ("scored", "flagged", "rejected")
        }
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}

    def request(self, protocol: str, code: int, seconds: float, kind: str | None = None) -> None:
        children = self._children.get((protocol, code))
        if children is None:
            children = (
                self.requests.labels(**self.labels, protocol=protocol, code=str(code)),
                self.latency.labels(**self.labels, protocol=protocol),
            )
            self._children[(protocol, code)] = children
        children[0].inc()
        children[1].observe(seconds)
        if kind is not None:
            self.errors.labels(**self.labels, kind=kind).inc()

    def depth(self, value: int) -> None:
        self._depth.set(value)

    def batch(self, requests: int, rows: int, scored: ScoredBatch | None) -> None:
        self._batch_requests.observe(requests)
        self._batch_rows.observe(rows)
        if scored is None:
            return
        rejected = int(np.count_nonzero(scored.rejected))
        flagged = len(scored.flags.flagged_rows()) if scored.flags.any() else 0
        self._rows["scored"].inc(rows - rejected)
        if flagged:
            self._rows["flagged"].inc(flagged)
        if rejected:
            self._rows["rejected"].inc(rejected)
        for name, note in scored.notes.get("lookups", {}).items():
            self.lookup_latency.labels(**self.labels, lookup=name).observe(note["latency_ms"] / 1e3)
            self.lookup_keys.labels(**self.labels, lookup=name, source="cache").inc(note["cache_hits"])
            self.lookup_keys.labels(**self.labels, lookup=name, source="query").inc(
                note["keys"] - note["cache_hits"]
            )
            if note.get("error"):
                self.lookup_failures.labels(**self.labels, lookup=name).inc()

    def probe(self, *, ok: bool, seconds: float) -> None:
        self.probe_success.labels(**self.labels).set(1 if ok else 0)
        self.probe_latency.labels(**self.labels).set(seconds)

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        ProcessCollector(registry=registry)
        return generate_latest(registry)
