"""Per-process model threads, so that worker processes x model threads never exceed the cores.

Two uvicorn workers on two cores, each letting scikit-learn's HistGradientBoosting use OpenMP on
every core, collapsed a minimal server from ~900 to ~22 requests/s (FACTS.md). A server or batch
worker calls ``configure_threads(workers=N)`` once at start, before it loads a model:

* OpenMP/BLAS pools already loaded (scikit-learn, LightGBM) are limited with threadpoolctl, and
  ``OMP_NUM_THREADS`` & co. are set for libraries loaded later and for child processes;
* ``SLIPWAY_MODEL_THREADS`` sets onnxruntime's intra-op threads of sessions opened afterwards;
* XGBoost's global ``nthread`` is set when XGBoost is loaded.

Threads per worker = cores available to the process (its CPU affinity) // workers, at least 1.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from slipway.core.errors import InvalidInputError

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SLIPWAY_MODEL_THREADS")


@dataclass(frozen=True, slots=True)
class ThreadPlan:
    cores: int
    workers: int
    threads: int


def available_cores() -> int:
    """Cores this process may run on (CPU affinity where the platform has it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def plan_threads(*, workers: int = 1, cores: int | None = None) -> ThreadPlan:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers must be a whole number >= 1, got {workers!r}")
    cores = available_cores() if cores is None else cores
    if cores < 1:
        raise InvalidInputError(f"cores must be >= 1, got {cores!r}")
    return ThreadPlan(cores=cores, workers=workers, threads=max(1, cores // workers))


def configure_threads(*, workers: int = 1, cores: int | None = None) -> ThreadPlan:
    """Limit this process's model threads to its share of the cores; return the plan applied."""
    from threadpoolctl import threadpool_limits

    plan = plan_threads(workers=workers, cores=cores)
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(plan.threads)
    threadpool_limits(limits=plan.threads)
    xgboost = sys.modules.get("xgboost")
    if xgboost is not None:
        xgboost.set_config(nthread=plan.threads)
    return plan
