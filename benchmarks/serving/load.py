"""wrk as the load generator: single-row POSTs over keep-alive connections on loopback.

wrk (C, event-driven) costs far less CPU per request than any Python client, so on a 2-core
machine it leaves the servers most of the CPU. Install it with ``apt-get install -y wrk``
(or ``brew install wrk``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def check_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "the serving benchmark needs wrk on PATH: "
            "`apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
        )
    return path


def run_wrk(url: str, body: dict[str, Any], *, connections: int, seconds: float) -> LoadResult:
    script = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                check_wrk(),
                "-t1",
                f"-c{connections}",
                f"-d{seconds:.0f}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        Path(handle.name).unlink()
    return parse(out)


def parse(out: str) -> LoadResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _duration(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _duration(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors:.*?timeout (\d+)", out):
        errors += int(match.group(1))
    return LoadResult(rate, p50, p99, errors)


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]
