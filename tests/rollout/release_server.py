"""Helpers for release tests against a real server: the models, a server process, concurrent load."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SRC = Path(__file__).resolve().parents[2] / "src"
DEFECT_CODE = Path(__file__).with_name("defect_model.py")
DB_ENV = "PRICING_DB_URL"
KEYS = [f"k{i}" for i in range(20)]


def lookup_spec() -> dict[str, Any]:
    return {
        "name": "bonus",
        "keys": {"k": "string"},
        "values": {"bonus": "number"},
        "source": {"kind": "sql", "url_env": DB_ENV, "table": "bonus"},
        "timeout_ms": 500,
        "on_miss": {"action": "default", "values": {"bonus": 0.0}},
        "on_error": {"action": "default", "values": {"bonus": 0.0}},
    }


def write_bonus_table(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE bonus (k TEXT PRIMARY KEY, bonus REAL NOT NULL)")
        connection.executemany("INSERT INTO bonus VALUES (?, ?)", [(k, float(i)) for i, k in enumerate(KEYS)])
    connection.close()
    return f"sqlite:///{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    env: dict[str, str]
    deployment: str
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, *, timeout_s: float = 90) -> Server:
        command = [
            sys.executable, "-m", "slipway.cli.main", "serve", "--deployment", self.deployment,
            "--port", str(self.port), "--workers", str(self.workers), "--rollout-interval", "0.5",
            "--probe-interval", "0",
        ]  # fmt: skip
        with open(self.log or os.devnull, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log}")
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready in {timeout_s} s; see {self.log}")

    def get(self, path: str) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            os.killpg(self.process.pid, signal.SIGKILL)  # the server and every worker, at once
        else:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Reply:
    status: int
    slot: str | None
    version: int | None
    prediction: float | None
    latency_ms: float
    user: str | None


class Load:
    """``connections`` threads, each on one keep-alive connection, sending requests until stopped."""

    def __init__(self, port: int, *, connections: int = 8, users: int = 5000, seed: int = 0) -> None:
        self.port, self.connections, self.users = port, connections, users
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(seed + i,), daemon=True) for i in range(connections)
        ]
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def wait_for(self, count: int, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        start = len(self.replies)
        while len(self.replies) - start < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def _run(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._stop.is_set():
            user = f"user-{int(rng.integers(self.users))}"
            body = json.dumps(
                {"records": [{"x": float(rng.uniform(0, 100)), "k": KEYS[int(rng.integers(len(KEYS)))]}]}
            )
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", "/v1/predict", body, {"Content-Type": "application/json", "X-User-Key": user}
                )
                response = connection.getresponse()
                data = json.loads(response.read())
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status, data = 0, {}
            latency = (time.perf_counter() - started) * 1e3
            ok = status == 200
            reply = Reply(
                status,
                data.get("slot") if ok else None,
                data["model"]["version"] if ok else None,
                data["predictions"][0]["prediction"] if ok else None,
                latency,
                user,
            )
            with self._lock:
                self.replies.append(reply)
        connection.close()
