"""Acceptance: the local engine's peak memory follows the chunk size, not the input size.

Two runs in fresh processes score 10 and 40 parts of the same size (each part 20,000 rows x 30
float features, 4.8 MB of values). If the engine held the input (or its output) in memory, the
40-part run would need at least the extra 30 parts, 144 MB, more than the 10-part run. The test
measures the peak resident memory of the driver process and of the worker process of each run
(their own ``ru_maxrss``) and requires the growth to stay under a third of that.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LinearRegression

from slipway.artifacts.builder import BuildSpec, build_artifact

pytestmark = pytest.mark.slow

CHUNK_ROWS = 20_000
FEATURES = [f"x{i:02d}" for i in range(30)]
PART_BYTES = CHUNK_ROWS * len(FEATURES) * 8


@pytest.fixture(scope="module")
def wide_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(2_000, len(FEATURES))), columns=FEATURES)
    train["y"] = train.sum(axis=1)
    model = LinearRegression().fit(train[FEATURES], train["y"])
    spec = BuildSpec(name="wide", train=train, target="y")
    return build_artifact(model, spec, output=tmp_path_factory.mktemp("wide") / "wide").path


def write_parts(path: Path, parts: int) -> None:
    rng = np.random.default_rng(parts)
    schema = pa.schema([(name, pa.float64()) for name in FEATURES])
    with pq.ParquetWriter(path, schema) as writer:
        for _ in range(parts):  # written part by part, so the test itself stays small too
            values = rng.normal(size=(CHUNK_ROWS, len(FEATURES)))
            writer.write_table(pa.Table.from_arrays(list(values.T), schema=schema))


def peak_memory(artifact: Path, source: Path, output: Path, home: Path) -> dict[str, int]:
    command = [
        sys.executable,
        "-m",
        "slipway.cli.main",
        "--home",
        str(home),
        "score",
        str(artifact),
        str(source),
        str(output),
        "--chunk-rows",
        str(CHUNK_ROWS),
        "--workers",
        "1",
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcome"]["parts"] == summary["rows_in"] // CHUNK_ROWS
    return summary["outcome"]["peak_rss"]


def test_peak_memory_does_not_grow_with_the_number_of_parts(wide_artifact: Path, tmp_path: Path) -> None:
    peaks = {}
    for parts in (10, 40):
        source = tmp_path / f"rows-{parts}.parquet"
        write_parts(source, parts)
        peaks[parts] = peak_memory(wide_artifact, source, tmp_path / f"out-{parts}", tmp_path / "home")
    held_by_30_more_parts = 30 * PART_BYTES
    for process in ("driver", "worker"):
        growth = peaks[40][process] - peaks[10][process]
        assert growth < held_by_30_more_parts / 3, (process, peaks)
