"""Serving throughput: slipway serve against hand-written baselines and MLflow, one run.

Model: FACTS.md's HistGradientBoostingClassifier on 30 features (``benchmarks.runtime``), built
into an artifact with its verified ONNX compilation. Single-row POSTs with wrk at 1, 8 and 32
keep-alive connections, DURATION_S per run, RUNS runs interleaved across servers (so machine
noise hits all alike); figures are medians over runs. Every server has one uvicorn worker:

* ``starlette+sklearn``: minimal Starlette + orjson endpoint calling ``predict_proba``;
* ``starlette+onnx``: the same calling onnxruntime on the ONNX file (the floor);
* ``slipway onnx``: ``slipway serve ARTIFACT`` (verified ONNX runtime, schema checks, micro-batching);
* ``slipway native``: ``slipway serve ARTIFACT --runtime native`` (a model with no compiled
  runtime: scikit-learn, micro-batched in a thread);
* ``slipway all guards``: ``slipway serve ARTIFACT`` with every default guard on (domain,
  anomaly, output, conformal); the two above run with ``--no-guards``;
* ``mlflow``: ``mlflow models serve --env-manager local`` on the same model (own venv).

Then ``slipway native`` with 1 and 2 workers (an OpenMP model: each worker's threads are limited
to its share of the cores, see ``slipway.runtimes.threads``).

Run: ``python -m benchmarks serving`` (needs wrk: ``apt-get install -y wrk``). Outputs go to
``bench-output/serving``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from benchmarks.serving import mlflow_server
from benchmarks.serving.load import LoadResult, check_wrk, run_wrk

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "bench-output" / "serving"
CONNECTIONS = (1, 8, 32)
RUNS = int(os.environ.get("SLIPWAY_BENCH_RUNS", "3"))
DURATION_S = float(os.environ.get("SLIPWAY_BENCH_SECONDS", "5"))
TRAIN_ROWS = 20_000
VALIDATION_ROWS = 2_000
STARTUP_S = 180.0


@dataclass
class Server:
    label: str
    args: list[str]
    path: str
    body: dict[str, Any]
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    results: dict[int, list[LoadResult]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> None:
        self.port = _free_port()
        args = [arg.replace("{port}", str(self.port)) for arg in self.args]
        log = (log_dir / f"{self.label.replace(' ', '_').replace('/', '_')}.log").open("wb")
        self.process = subprocess.Popen(args, env=self.env or None, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.process.returncode}")
            try:
                if self.ready_path == self.path:
                    ok = httpx.post(self.url + self.path, json=self.body, timeout=5).status_code == 200
                else:
                    ok = httpx.get(self.url + self.ready_path, timeout=5).status_code == 200
                if ok and httpx.post(self.url + self.path, json=self.body, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.label} was not ready within {STARTUP_S:.0f} s")

    def measure(self, connections: int) -> LoadResult:
        result = run_wrk(self.url + self.path, self.body, connections=connections, seconds=DURATION_S)
        self.results.setdefault(connections, []).append(result)
        return result

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def summary(self, connections: int) -> tuple[float, float, float, int]:
        runs = self.results.get(connections, [])
        if not runs:
            return (float("nan"),) * 3 + (0,)  # type: ignore[return-value]
        return (
            median(r.requests_per_s for r in runs),
            median(r.p50_ms for r in runs),
            median(r.p99_ms for r in runs),
            sum(r.errors for r in runs),
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_artifact(folder: Path) -> tuple[Path, dict[str, float]]:
    from benchmarks.runtime import wide_classifier
    from slipway.artifacts.builder import BuildSpec
    from slipway.artifacts.builder import build_artifact as build
    from slipway.guards.step import GuardsStep
    from slipway.runtimes.compile import OnnxCompileStep

    model, frame, target = wide_classifier(TRAIN_ROWS)
    spec = BuildSpec(name="wide", train=frame, validation=frame.tail(VALIDATION_ROWS), target=target)
    # every default guard (domain, anomaly, output, conformal): served with --no-guards for "guards off"
    built = build(model, spec, output=folder / "wide", steps=[GuardsStep(None), OnnxCompileStep()])
    if not built.manifest.sections["runtime"]["verified"]:
        raise SystemExit(f"no verified ONNX runtime: {built.manifest.sections['runtime']['reason']}")
    record = {name: float(value) for name, value in frame.drop(columns=target).iloc[0].items()}
    return built.path, record


def servers(artifact: Path, record: dict[str, float], home: Path) -> list[Server]:
    python = sys.executable
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "SLIPWAY_HOME": str(home)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    baseline = str(Path(__file__).with_name("baseline_app.py"))
    # A well-configured baseline: one OpenMP thread (with two on two cores, its spin-waiting
    # starved the event loop: ~10 requests/s here). slipway sets its own (runtimes.threads).
    single = {**env, "OMP_NUM_THREADS": "1"}
    serve = [python, "-m", "slipway.cli.main", "serve", str(artifact), "--port", "{port}"]
    v1 = "/v1/models/wide/predict"
    return [
        Server(
            "starlette+sklearn",
            [python, baseline, "sklearn", str(artifact), "{port}"],
            "/predict",
            record,
            "/predict",
            single,
        ),
        Server(
            "starlette+onnx",
            [python, baseline, "onnx", str(artifact), "{port}"],
            "/predict",
            record,
            "/predict",
            single,
        ),
        Server("slipway onnx", [*serve, "--no-guards"], v1, {"records": [record]}, "/readyz", env),
        Server(
            "slipway native",
            [*serve, "--runtime", "native", "--no-guards"],
            v1,
            {"records": [record]},
            "/readyz",
            env,
        ),
        Server("slipway all guards", serve, v1, {"records": [record]}, "/readyz", env),
    ]


def mlflow(record: dict[str, float]) -> Server | None:
    try:
        folder = mlflow_server.venv(OUTPUT.parent)
        model = mlflow_server.save_model(folder, OUTPUT, TRAIN_ROWS)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"mlflow not measured: could not install or save the model ({error})")
        return None
    args, env = mlflow_server.command(folder, model, 0)
    args[args.index("-p") + 1] = "{port}"
    return Server("mlflow", args, "/invocations", {"dataframe_records": [record]}, "/ping", env)


def run_all(group: list[Server], connections: tuple[int, ...], log_dir: Path) -> None:
    for server in group:
        server.start(log_dir)
    try:
        for server in group:
            server.wait_ready()
            server.measure(connections[-1])  # warm-up, discarded
            server.results.clear()
        for run in range(RUNS):
            for server in group:
                for count in connections:
                    result = server.measure(count)
                    print(
                        f"  run {run + 1} {server.label:18} c={count:<3} {result.requests_per_s:8.0f} req/s "
                        f"p50 {result.p50_ms:7.2f} ms p99 {result.p99_ms:7.2f} ms",
                        flush=True,
                    )
    finally:
        for server in group:
            server.stop()


def table(group: list[Server], connections: tuple[int, ...]) -> None:
    print(f"\n{'server':20} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for server in group:
        for count in connections:
            rate, p50, p99, errors = server.summary(count)
            print(f"{server.label:20} {count:>5} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {errors:>6}")


def ratios(by_label: dict[str, Server], numerator: str, denominator: str, goal: float | None) -> None:
    if numerator not in by_label or denominator not in by_label:
        return
    parts = []
    for count in CONNECTIONS:
        top, bottom = by_label[numerator].summary(count)[0], by_label[denominator].summary(count)[0]
        ratio = top / bottom if bottom else float("nan")
        mark = "" if goal is None else (" ok" if ratio >= goal else " BELOW GOAL")
        parts.append(f"c={count}: {ratio:.2f}x{mark}")
    goal_text = "" if goal is None else f" (goal >= {goal}x)"
    print(f"{numerator} / {denominator}{goal_text}: " + ", ".join(parts))


def main() -> None:
    check_wrk()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log_dir = OUTPUT / "logs"
    log_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slipway-bench-serve-") as scratch:
        artifact, record = build_artifact(Path(scratch))
        group = servers(artifact, record, Path(scratch) / "home")
        only = os.environ.get("SLIPWAY_BENCH_ONLY")  # e.g. "slipway native,starlette+sklearn"
        if only:
            group = [server for server in group if server.label in only.split(",")]
        flow = None if os.environ.get("SLIPWAY_BENCH_NO_MLFLOW") else mlflow(record)
        if flow is not None:
            group.append(flow)
        print(f"wrk, single-row POSTs, {DURATION_S:.0f} s per run, median of {RUNS} runs; 1 worker each")
        run_all(group, CONNECTIONS, log_dir)
        table(group, CONNECTIONS)
        by_label = {server.label: server for server in group}
        print()
        ratios(by_label, "slipway onnx", "starlette+onnx", 0.7)
        ratios(by_label, "slipway native", "starlette+sklearn", None)
        ratios(by_label, "slipway all guards", "mlflow", 10.0)
        ratios(by_label, "slipway all guards", "slipway onnx", None)
        ratios(by_label, "slipway onnx", "mlflow", None)
        print("goal: slipway native (micro-batching) >= 2x starlette+sklearn at 32 connections")

        env = by_label["slipway onnx"].env if "slipway onnx" in by_label else group[-1].env
        serve = [
            sys.executable,
            "-m",
            "slipway.cli.main",
            "serve",
            str(artifact),
            "--port",
            "{port}",
            "--runtime",
            "native",
            "--no-guards",
        ]
        v1, body = "/v1/models/wide/predict", {"records": [record]}
        workers = [
            Server("native 1 worker", serve, v1, body, "/readyz", env),
            Server("native 2 workers", [*serve, "--workers", "2"], v1, body, "/readyz", env),
        ]
        print(
            "\nworkers: the OpenMP (scikit-learn) model; each worker's model threads = its share of the cores"
        )
        run_all(workers, (8, 32), log_dir)
        table(workers, (8, 32))
        for count in (8, 32):
            one, two = workers[0].summary(count)[0], workers[1].summary(count)[0]
            print(f"2 workers / 1 worker at c={count}: {two / one if one else float('nan'):.2f}x")
