"""Running the app under uvicorn: one process, or N worker processes.

With one worker the app is built here and handed to uvicorn. With N, uvicorn starts N processes
that each import ``slipway.api:worker_app`` and build their own app from a ``ServeSpec`` passed
in the environment (``SLIPWAY_SERVE_SPEC``): each worker limits its model threads
(``configure_threads(workers=N)``) before it loads the model, and the workers' metrics are
shared through prometheus_client's multiprocess mode in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from slipway.core.errors import InvalidInputError
from slipway.serving.config import ServeConfig

SPEC_VARIABLE = "SLIPWAY_SERVE_SPEC"
WORKER_FACTORY = "slipway.api:worker_app"
GRACEFUL_SHUTDOWN_S = 30


@dataclass(frozen=True)
class ServeSpec:
    """Everything a worker process needs to build the same app as its siblings."""

    ref: str
    home: str | None = None
    registry_url: str | None = None
    store_url: str | None = None
    runtime: str = "auto"
    lookups: str | None = None
    probe_record: dict[str, Any] | None = None
    trust_pickle: bool = False
    guards: bool = True
    deployment: str | None = None
    degrade_when: str | None = None
    workers: int = 1
    config: ServeConfig = field(default_factory=ServeConfig)

    def to_env(self) -> str:
        data = asdict(self)
        data["config"] = self.config.to_dict()
        return json.dumps(data)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServeSpec:
        text = (os.environ if environ is None else environ).get(SPEC_VARIABLE)
        if not text:
            raise InvalidInputError(
                f"{SPEC_VARIABLE} is not set: worker_app is started by `slipway serve --workers N`"
            )
        data = json.loads(text)
        data["config"] = ServeConfig(**data["config"])
        return cls(**data)


def serving_cores(workers: int) -> int:
    """Cores for the model threads of ``workers`` server processes: all but one per worker.

    Each worker's event loop needs a core next to its model threads: with two cores, one worker
    and two OpenMP threads, the threads' spin-waiting starved the event loop and a
    HistGradientBoosting server fell from ~500 to under 10 requests/s (benchmarks/serving).
    ``configure_threads`` then gives each worker ``max(1, (cores - workers) // workers)``.
    """
    from slipway.runtimes.threads import available_cores

    return max(1, available_cores() - workers)


def check_address(host: str, port: int, workers: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInputError(f"port must be between 0 and 65535, got {port!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers must be a whole number >= 1, got {workers!r}")
    if not host:
        raise InvalidInputError("host must not be empty (use 127.0.0.1, or 0.0.0.0 to listen everywhere)")


def run_app(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` in this process until SIGINT/SIGTERM; requests in flight are finished first."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    uvicorn.Server(config).run()


def run_workers(spec: ServeSpec, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve with ``spec.workers`` uvicorn worker processes, each building its app from ``spec``."""
    import uvicorn

    metrics_dir = tempfile.mkdtemp(prefix="slipway-metrics-")
    saved = {name: os.environ.get(name) for name in (SPEC_VARIABLE, "PROMETHEUS_MULTIPROC_DIR")}
    os.environ[SPEC_VARIABLE] = spec.to_env()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            WORKER_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=spec.workers,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(metrics_dir, ignore_errors=True)
