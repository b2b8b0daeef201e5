"""Computational metrics, measured on the loaded artifact through the Scorer serving uses.

Single-row latency: one ``score_records([row])`` call per request, as the HTTP server makes it,
after a warm-up, over ``calls`` calls or until ``max_seconds`` have passed (so a slow model still
gets a verdict quickly; the number of calls made is reported). Batch latency: the median of
``batch_repeats`` calls on ``batch_size`` rows. Peak memory: what tracemalloc sees allocated
(numpy included) while one batch is scored.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd

from slipway.scoring.scorer import Scorer
from slipway.validation.catalog import LATENCY_SHARE
from slipway.validation.plan import LatencySettings

MIN_CALLS = 3


def single_row_latencies(scorer: Scorer, frame: pd.DataFrame, settings: LatencySettings) -> np.ndarray:
    """Milliseconds per single-row call, on one thread, as a serving worker runs.

    Native thread pools (OpenMP in scikit-learn's gradient boosting) are limited to one thread:
    that is how slipway serves (one thread per worker), and on a busy machine a thread pool
    spinning up for one row made single calls 100 times slower than the model is.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _single_rows(scorer, frame, settings)


def _single_rows(scorer: Scorer, frame: pd.DataFrame, settings: LatencySettings) -> np.ndarray:
    columns = [name for name in scorer.input_columns if name in frame.columns]
    rows = frame[columns].head(max(settings.calls, 1)).to_dict("records")
    records = [{str(key): (None if _is_missing(v) else v) for key, v in row.items()} for row in rows]
    started = time.perf_counter()
    for index in range(settings.warmup):
        scorer.score_records([records[index % len(records)]])
        if time.perf_counter() - started > settings.max_seconds / 4:
            break
    samples: list[float] = []
    while len(samples) < settings.calls:
        record = records[len(samples) % len(records)]
        begin = time.perf_counter()
        scorer.score_records([record])
        samples.append((time.perf_counter() - begin) * 1e3)
        if len(samples) >= MIN_CALLS and time.perf_counter() - started > settings.max_seconds:
            break
    return np.asarray(samples)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def latency_metrics(samples: np.ndarray, requested: set[str]) -> dict[str, float]:
    values = {
        "latency_mean_ms": float(samples.mean()),
        "latency_p50_ms": float(np.percentile(samples, 50)),
        "latency_p95_ms": float(np.percentile(samples, 95)),
        "latency_p99_ms": float(np.percentile(samples, 99)),
        "share_latency_over_200ms": float(np.mean(samples > 200)),
    }
    for name in requested:
        match = LATENCY_SHARE.fullmatch(name)
        if match:
            values[name] = float(np.mean(samples > int(match[1])))
    return values


def batch_metrics(scorer: Scorer, frame: pd.DataFrame, settings: LatencySettings) -> dict[str, float]:
    repeats = -(-settings.batch_size // len(frame))
    batch = pd.concat([frame] * repeats, ignore_index=True).head(settings.batch_size)
    scorer.score_frame(batch)  # warm-up
    timings = []
    for _ in range(settings.batch_repeats):
        begin = time.perf_counter()
        scorer.score_frame(batch)
        timings.append(time.perf_counter() - begin)
    median = float(np.median(timings))
    tracemalloc.start()
    try:
        scorer.score_frame(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "batch_latency_ms": median * 1e3,
        "throughput_rows_per_s": len(batch) / median if median > 0 else float("inf"),
        "peak_memory_mb": peak / 1e6,
    }
