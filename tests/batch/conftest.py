"""Batch fixtures: one registry with the two examples, input files, and ONE SparkSession.

Spark takes seconds to start, so every Spark test shares the session-scoped ``spark`` fixture
(``local[2]``). Its Python workers must find slipway and this test suite's helper modules
(``support.batch_stages``): the session is started with them on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from slipway.api import Slipway
from slipway.core.settings import Settings
from support.examples import ExampleData

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"


@pytest.fixture(scope="session")
def batch_home(
    tmp_path_factory: pytest.TempPathFactory, credit_artifact, apartments_artifact
) -> Iterator[Slipway]:
    """A registry holding credit:1 and apartments:1, shared by the batch tests."""
    home = tmp_path_factory.mktemp("batch-home")
    sw = Slipway(Settings.from_env({}, home=home, actor="batch@test"))
    sw.register(credit_artifact)
    sw.register(apartments_artifact)
    yield sw
    sw.close()


@pytest.fixture(scope="session")
def credit_rows(credit_data: ExampleData) -> pd.DataFrame:
    """The credit holdout with a row id, and a few rows pushed out of range to trip the test stages."""
    frame = credit_data.holdout.copy()
    frame.insert(0, "row_id", range(len(frame)))
    frame.loc[frame.index[::97], "late_payments"] = 6
    frame.loc[frame.index[::53], "income"] = 150_000.0
    return frame


@pytest.fixture(scope="session")
def credit_parquet(tmp_path_factory: pytest.TempPathFactory, credit_rows: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("batch-input") / "credit.parquet"
    credit_rows.to_parquet(path, index=False, row_group_size=300)
    return path


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The test session's SparkSession on local[2] (never skipped when pyspark is installed)."""
    from pyspark.sql import SparkSession

    paths = [str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("slipway-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
