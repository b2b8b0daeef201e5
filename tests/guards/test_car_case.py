"""Acceptance: the car case. Trained on recent light cars and old heavy cars, a recent heavy car
has each feature inside its range but a combination never seen: the anomaly detector flags it.
A value far outside a range is flagged by the domain check even where the detector is blind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from slipway.artifacts.builder import BuildSpec
from slipway.guards.stages import guard_stages
from slipway.scoring.scorer import Scorer
from support.examples import ExampleData
from support.guarded import apartments_spec, build_guarded


def cars(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    recent = rng.random(rows) < 0.5
    year = np.where(recent, rng.integers(2015, 2025, rows), rng.integers(1975, 1995, rows))
    weight = np.where(recent, rng.normal(1100, 80, rows), rng.normal(2100, 120, rows)).round()
    price = (30_000 - 400 * (2025 - year) + 3 * weight + rng.normal(0, 500, rows)).round()
    return pd.DataFrame({"year": year.astype(np.int64), "weight": weight, "price": price})


def guarded_scorer(tmp_path: Path, model: Any, spec: BuildSpec, guards: Any = None) -> Scorer:
    artifact = build_guarded(model, spec, tmp_path / "artifact", guards)
    return Scorer(artifact, stages=guard_stages(artifact))


def guards_of(row: dict[str, Any]) -> set[str]:
    return {flag["guard"] for flag in row["flags"]}


def test_a_recent_heavy_car_is_flagged_by_the_anomaly_detector_not_by_the_domain(tmp_path: Path) -> None:
    train, validation = cars(2_000, seed=1), cars(500, seed=2)
    model = LinearRegression().fit(train[["year", "weight"]], train["price"])
    spec = BuildSpec(name="cars", train=train, validation=validation, target="price")
    scorer = guarded_scorer(tmp_path, model, spec)

    rows = scorer.score_records(
        [
            {"year": 2020, "weight": 1100.0},  # recent and light: seen
            {"year": 1985, "weight": 2100.0},  # old and heavy: seen
            {"year": 2020, "weight": 2100.0},  # recent and heavy: each value in range, never together
        ]
    ).rows()

    assert [guards_of(row) for row in rows] == [set(), set(), {"anomaly"}]
    anomaly = rows[2]["flags"][0]
    assert anomaly["code"] == "unusual_combination"
    assert anomaly["detail"]["score"] > anomaly["detail"]["threshold"]
    assert rows[2]["prediction"] is not None  # policy flag: scored and annotated


def test_the_domain_flags_surface_1e6_even_where_the_anomaly_detector_misses_it(
    tmp_path: Path, apartments_model: Any, apartments_data: ExampleData
) -> None:
    # the detector looks at the other features only, so it cannot see the surface at all
    guards = {"anomaly": {"features": ["rooms", "floor", "construction_year"]}}
    scorer = guarded_scorer(tmp_path, apartments_model, apartments_spec(apartments_data), guards)
    row = apartments_data.holdout.iloc[[0]].copy()
    row["surface"] = 1e6

    scored = scorer.score_frame(row).rows()[0]

    assert guards_of(scored) == {"domain"}
    flag = scored["flags"][0]
    maximum = apartments_data.train["surface"].max()
    assert maximum == 150
    assert (flag["feature"], flag["value"], flag["code"]) == ("surface", 1e6, "above_range")
    low, high = flag["detail"]["interval"]
    assert low < apartments_data.train["surface"].min() and maximum < high < 1e6
