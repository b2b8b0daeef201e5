"""Acceptance: guard flags have ONE structure whichever path scores the rows (Python API, local
batch engine, Spark), with every policy in play: flag, reject, clip and fallback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from slipway.api import Slipway
from slipway.core.settings import Settings
from support.examples import ExampleData
from support.flag_paths import PathContext, assert_same_rows
from support.guarded import apartments_spec, build_guarded, credit_spec

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CREDIT_POLICIES = {
    "domain": {"policy": "reject"},
    "output": {"min_certainty": 0.65, "policy": "fallback"},
    "fallback": {"rule": 0},
}
APARTMENTS_POLICIES = {"domain": {"policy": "clip"}, "output": {"bounds": [0, 600_000], "policy": "clip"}}


@pytest.fixture(scope="module")
def paths_home(
    tmp_path_factory: pytest.TempPathFactory,
    credit_model: Any,
    credit_data: ExampleData,
    apartments_model: Any,
    apartments_data: ExampleData,
) -> Iterator[Slipway]:
    folder = tmp_path_factory.mktemp("guard-paths")
    sw = Slipway(Settings.from_env({}, home=folder / "home", actor="paths@test"))
    sw.register(build_guarded(credit_model, credit_spec(credit_data), folder / "c", CREDIT_POLICIES).path)
    apartments = build_guarded(
        apartments_model, apartments_spec(apartments_data), folder / "a", APARTMENTS_POLICIES
    )
    sw.register(apartments.path)
    yield sw
    sw.close()


def odd_rows(frame: pd.DataFrame, column: str, value: float, every: int) -> pd.DataFrame:
    rows = frame.copy()
    rows.loc[rows.index[::every], column] = value
    return rows


def actions(rows: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((flag["guard"], flag["action"]) for row in rows for flag in row["flags"])


def test_credit_flags_rejections_and_fallbacks_agree_on_every_path(
    paths_home: Slipway, credit_data: ExampleData, spark: object, tmp_path: Path
) -> None:
    rows = odd_rows(credit_data.holdout.head(600), "income", 5e6, every=40)

    scored = assert_same_rows(PathContext(paths_home, "credit:1", tmp_path), rows)

    seen = actions(scored)
    assert seen[("domain", "reject")] == 15
    assert seen[("output", "fallback")] > 0 and seen[("conformal", "flag")] > 0
    assert sum(row["rejected"] for row in scored) == 15
    assert all(row["prediction"] == 0 for row in scored if ("output", "fallback") in actions([row]))


def test_apartments_clipped_inputs_and_outputs_agree_on_every_path(
    paths_home: Slipway, apartments_data: ExampleData, spark: object, tmp_path: Path
) -> None:
    rows = odd_rows(apartments_data.holdout.head(500), "surface", 900.0, every=25)

    scored = assert_same_rows(PathContext(paths_home, "apartments:1", tmp_path), rows)

    seen = actions(scored)
    assert seen[("domain", "clip")] == 20 and seen[("output", "clip")] > 0
    assert max(row["prediction"] for row in scored) == 600_000
    assert all(row["interval"] is not None for row in scored)
