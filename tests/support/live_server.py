"""Servers for the serving tests: real uvicorn on a free loopback port, in a thread or as the
``slipway serve`` command in a subprocess, over the example models and real lookup databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from threadpoolctl import threadpool_limits

from slipway.api import Slipway
from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.core.settings import Settings
from slipway.enrichment.artifact import LookupsStep
from slipway.examples import apartments, credit
from slipway.runtimes.compile import OnnxCompileStep

SRC = Path(__file__).resolve().parents[2] / "src"
STARTUP_S = 90.0
#: A request as the apartments model takes it: the zip code, not its price.
APARTMENT = {"surface": 64.0, "rooms": 3, "floor": 4, "construction_year": 1998, "zip_code": "75004"}


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """One OpenMP thread, as a server worker on a shared 2-core machine has."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def apartments_served(tmp_path_factory, apartments_model, apartments_data) -> BuiltArtifact:
    """The apartments model with its zip-code lookup, compiled to ONNX (verified parity)."""
    spec = BuildSpec(
        name=apartments.NAME,
        train=apartments_data.train,
        validation=apartments_data.validation,
        target=apartments.TARGET,
        features=apartments.FEATURES,
    )
    with threadpool_limits(limits=1):
        return build_artifact(
            apartments_model,
            spec,
            output=tmp_path_factory.mktemp("served") / "apartments",
            steps=[LookupsStep([apartments.lookup()]), OnnxCompileStep()],
        )


@pytest.fixture(scope="session")
def credit_served(tmp_path_factory, credit_model, credit_data) -> BuiltArtifact:
    """The credit classifier, native runtime (no compile step): scored in the batcher's thread."""
    spec = BuildSpec(
        name=credit.NAME,
        train=credit_data.train,
        validation=credit_data.validation,
        target=credit.TARGET,
        exclude=[credit.SENSITIVE],
    )
    return build_artifact(credit_model, spec, output=tmp_path_factory.mktemp("served") / "credit")


@pytest.fixture
def zip_db(tmp_path) -> str:
    return apartments.write_zip_table(tmp_path / "zip.db")


@pytest.fixture
def credit_record(credit_data) -> dict[str, Any]:
    frame = credit_data.holdout.drop(columns=[credit.TARGET, credit.SENSITIVE])
    return frame.iloc[0].to_dict()


class LiveServer:
    """A uvicorn.Server running an app in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **options)

    @property
    def state(self) -> Any:
        return self.app.state.server

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


@pytest.fixture
def serve_app(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """``serve_app(artifact, **app_options)``: a started LiveServer of ``Slipway.app``."""
    servers: list[LiveServer] = []
    sw = Slipway(Settings.from_env({}, home=tmp_path / "home"))

    def start(source: Any, **options: Any) -> LiveServer:
        server = LiveServer(sw.app(source, **options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    sw.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """``slipway serve`` as a subprocess; ``wait_ready`` polls /readyz."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "slipway.cli.main", "serve", *args, "--port", str(self.port)],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> ServeProcess:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slipway serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"slipway serve was not ready in {STARTUP_S} s: {self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return self.process.returncode


@pytest.fixture
def serve_process(tmp_path) -> Iterator[Callable[..., ServeProcess]]:
    """``serve_process(*args, env=...)``: ``slipway serve ARGS`` started and ready."""
    processes: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, ready: bool = True) -> ServeProcess:
        environ = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            "SLIPWAY_HOME": str(tmp_path / "home"),
            **(env or {}),
        }
        environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        process = ServeProcess(list(args), env=environ, log=tmp_path / f"serve-{len(processes)}.log")
        processes.append(process)
        return process.wait_ready() if ready else process

    yield start
    for process in processes:
        process.stop()
