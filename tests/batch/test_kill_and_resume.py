"""Acceptance: a local run killed midway (SIGKILL, a real process) leaves nothing under the final
name, and ``--resume`` finishes it with a result equal to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from slipway.batch.staging import JOURNAL, staging_folder

pytestmark = pytest.mark.slow


def slipway_command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "slipway.cli.main", "--home", str(home), *args]


def committed_parts(output: Path) -> int:
    journal = staging_folder(output) / JOURNAL
    if not journal.is_file():
        return 0
    return max(0, len(journal.read_text().splitlines()) - 1)


def test_killed_run_leaves_no_output_and_resume_equals_an_uninterrupted_run(
    batch_home, credit_rows: pd.DataFrame, tmp_path: Path
) -> None:
    rows = pd.concat([credit_rows] * 25, ignore_index=True)  # 30,000 rows in 60 parts of 500
    rows["row_id"] = range(len(rows))
    source = tmp_path / "loans.parquet"
    rows.to_parquet(source, index=False)
    output = tmp_path / "scored"
    home = batch_home.settings.home
    args = ("score", "credit:1", str(source), str(output), "--chunk-rows", "500", "--workers", "1")

    with subprocess.Popen(
        slipway_command(home, *args),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as run:
        deadline = time.monotonic() + 240
        while committed_parts(output) < 3 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGKILL)  # the driver and its worker, as a crash or the OOM killer would
        run.wait()
    killed_after = committed_parts(output)

    assert run.returncode == -signal.SIGKILL
    assert 3 <= killed_after < 60
    assert not output.exists()

    resumed = subprocess.run(
        slipway_command(home, *args, "--resume", "--json"), capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["outcome"]["parts_resumed"] >= killed_after
    assert summary["outcome"]["parts"] == 60
    assert not staging_folder(output).exists()

    batch_home.score("credit:1", source, tmp_path / "uninterrupted", chunk_rows=500, workers=0)
    resumed_table = pq.read_table(output).sort_by("row_id")
    whole_table = pq.read_table(tmp_path / "uninterrupted").sort_by("row_id")
    assert resumed_table.drop_columns(["run_id"]).equals(whole_table.drop_columns(["run_id"]))
    assert resumed_table.column("run_id").unique().to_pylist() == [summary["run_id"]]
    assert summary["output_digest"] != ""
