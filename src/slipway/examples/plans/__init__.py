"""Validation plans of the example models, and the data their scenarios read.

``write_tests(example, folder, base_case=frame)`` makes a folder to build an artifact with
(``tests=folder``): the example's ``plan.yaml`` plus ``base_case.parquet`` (and, for credit, a
``production.parquet`` of labelled applications over three weeks, for production windows).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from slipway.examples import credit

PLANS = Path(__file__).parent
PRODUCTION_START = "2026-11-01"
PRODUCTION_DAYS = 21


def plan_file(example: str) -> Path:
    return PLANS / example / "plan.yaml"


def production_applications(rows: int = 900, *, seed: int = 2026) -> pd.DataFrame:
    """Fresh credit applications with the time each was made, over three weeks."""
    frame = credit.generate(rows, seed=seed)
    rng = np.random.default_rng(seed)
    offsets = pd.to_timedelta(np.sort(rng.uniform(0, PRODUCTION_DAYS * 86_400, rows)), unit="s")
    frame["applied_at"] = pd.Timestamp(PRODUCTION_START, tz="UTC") + offsets
    return frame


def write_tests(example: str, folder: Path, *, base_case: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plan_file(example), folder / "plan.yaml")
    base_case.to_parquet(folder / "base_case.parquet", index=False)
    if example == credit.NAME:
        production_applications().to_parquet(folder / "production.parquet", index=False)
    return folder
