"""Latency overhead of a release policy: canary (50%) and shadow (100% mirrored) against a
single-slot deployment, served by ``slipway serve --deployment`` on loopback at 8 connections.

Each policy gets its own server process (one worker, ``OMP_NUM_THREADS=1``) on the same
registry and the same apartments model (verified ONNX runtime, two registered versions); 8
client threads, each on one keep-alive connection, send one-row requests with a user key. The
three servers run side by side and get short bursts of REQUESTS requests in a shuffled order,
ROUNDS times, so a load swing on the shared machine hits all three; each figure is the median
over rounds, and the ratio the median of each round's p50 over the single-slot p50 of that
round. The client shares the machine's cores with the servers: read the ratios, not the
absolutes. The shadow's counters say how many copies the candidate scored and dropped.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from slipway.api import Slipway
from slipway.core.settings import Settings
from slipway.examples import apartments

ROUNDS = 20
REQUESTS = 400  # per burst, over all connections
CONNECTIONS = 8
POLICIES: dict[str, dict[str, Any] | None] = {
    "single": None,
    "canary 50%": {"strategy": "canary", "steps": [50, 100], "min_requests": 10**9},
    "shadow 100%": {"strategy": "shadow"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str], name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        sys.executable, "-m", "slipway.cli.main", "serve", "--deployment", name, "--port", str(port),
        "--probe-interval", "0", "--rollout-interval", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server for {name} did not become ready")


def status(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/v1/deployment")
    return dict(json.loads(connection.getresponse().read()))


def load(port: int, records: list[dict[str, Any]]) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = REQUESTS // CONNECTIONS

    def run(seed: int) -> None:
        rng = np.random.default_rng(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(per_thread + 20):
            body = json.dumps({"records": [records[int(rng.integers(len(records)))]]})
            headers = {"Content-Type": "application/json", "X-User-Key": f"user-{rng.integers(100_000)}"}
            started = time.perf_counter()
            connection.request("POST", "/v1/predict", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            if i >= 20:  # the first requests warm the connection
                mine.append((time.perf_counter() - started) * 1e3)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="slipway-bench-rollout-"))
    flats = apartments.enrich(apartments.generate(3000))
    train = flats.drop(columns=[apartments.LOOKUP_KEY])
    records = train.drop(columns=[apartments.TARGET]).head(500).to_dict("records")
    env = {**os.environ, "SLIPWAY_HOME": str(root / "home"), "OMP_NUM_THREADS": "1", "SLIPWAY_ACTOR": "bench"}
    env.pop("SLIPWAY_REGISTRY_URL", None)
    env.pop("SLIPWAY_STORE_URL", None)
    with Slipway(Settings.from_env({}, home=root / "home")) as sw:
        for version, seed in enumerate((0, 1), start=1):  # two versions of the same size and cost
            model = apartments.train(train.sample(frac=0.95, random_state=seed), max_iter=100)
            built = sw.build(model, name="apartments", train=train, target=apartments.TARGET,
                             features=apartments.FEATURES, output=root / f"v{version}")  # fmt: skip
            sw.register(built)
        for name, policy in POLICIES.items():
            deployment = name.split()[0]
            sw.deploy(deployment, "apartments:1", options={"runtime": "auto"})
            if policy is not None:
                sw.rollout(deployment, "apartments:2", **policy)
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in POLICIES}
    order = random.Random(0)
    try:
        for name in POLICIES:
            servers[name] = start(env, name.split()[0])
        for _ in range(ROUNDS):  # short bursts, in a shuffled order each round: load swings hit all
            for name in order.sample(list(POLICIES), len(POLICIES)):
                started = time.perf_counter()
                latencies = load(servers[name][1], records)
                elapsed = time.perf_counter() - started
                results[name].append(
                    (
                        float(np.percentile(latencies, 50)),
                        float(np.percentile(latencies, 99)),
                        len(latencies) / elapsed,
                    )
                )
        worker = status(servers["shadow 100%"][1])["worker"]
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGINT)
        for process, _ in servers.values():
            process.wait(30)
    singles = results["single"]
    header = f"{'policy':<14}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'p50 vs single':>15}"
    print(f"{header}   ({ROUNDS} rounds, medians; load average {os.getloadavg()[0]:.1f})")
    for name, runs in results.items():
        p50, p99, rate = (median(r[i] for r in runs) for i in range(3))
        ratio = median(run[0] / single[0] for run, single in zip(runs, singles, strict=True))
        print(f"{name:<14}{p50:>9.2f}{p99:>9.2f}{rate:>9.0f}{ratio:>14.2f}x")
    copies = {key[7:]: worker[key] for key in ("shadow_done", "shadow_dropped", "shadow_failed")}
    print("shadow copies: " + ", ".join(f"{key} {value}" for key, value in copies.items()))
    print("goal: canary and shadow p50 within 10% of single (ratio <= 1.10)")


if __name__ == "__main__":
    main()
