"""The defect zoo: each model has one planted defect; the gate rejects it and names the scenario
and metric that show it. The healthy example models pass the same gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from slipway.artifacts.loader import LoadedArtifact
from slipway.examples import apartments, credit
from slipway.validation.results import GateReport
from support.gate import ZOO, failed_ids

# Each test runs a whole gate (10-45 s on a busy 2-core machine).
pytestmark = pytest.mark.slow


def test_the_healthy_credit_model_passes(credit_report: GateReport) -> None:
    assert credit_report.verdict == "pass", [f.id for f in credit_report.failures]
    assert credit_report.scenario("base_case").metrics["accuracy"] > 0.72
    windows = [s.name for s in credit_report.scenarios if s.kind == "production"]
    assert windows == [
        "production_2026-11-01_to_2026-11-07",
        "production_2026-11-08_to_2026-11-14",
        "production_2026-11-15_to_2026-11-21",
    ]


def test_the_healthy_apartments_model_passes(apartments_report: GateReport) -> None:
    assert apartments_report.verdict == "pass", [f.id for f in apartments_report.failures]
    assert apartments_report.scenario("unseen_categories").not_applicable  # no text feature


def test_broken_preprocessing_fails_base_case_quality(
    build_example: Callable[..., LoadedArtifact], gate: Callable[..., GateReport], apartments_data: Any
) -> None:
    """The scaler in front of the model was refitted on data in other units (areas in dm²)."""
    train = apartments_data.train
    features = list(apartments.FEATURES)
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("model", apartments.train(train, max_iter=60).__class__(max_iter=60, random_state=0)),
        ]
    )
    model.fit(train[features], train[apartments.TARGET])
    in_other_units = train[features].assign(surface=train["surface"] * 100)
    model.steps[0] = ("scale", StandardScaler().fit(in_other_units))
    report = gate(build_example("apartments", model))
    assert report.verdict == "fail"
    assert {"base_case::mape <= 0.08", "base_case::rmse <= 80000"} <= failed_ids(report)


def test_a_model_biased_against_women_fails_fairness(
    build_example: Callable[..., LoadedArtifact], gate: Callable[..., GateReport], credit_data: Any
) -> None:
    """Trained on historical decisions that declined women more, with gender as a feature."""
    train = credit_data.train.copy()
    women = (train[credit.SENSITIVE] == "F").to_numpy()
    flip = women & (np.random.default_rng(0).random(len(train)) < 0.35)
    train.loc[flip, credit.TARGET] = 1
    features = [*credit.FEATURES, credit.SENSITIVE]
    encode = ColumnTransformer(
        [
            (
                "categories",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                [*credit.CATEGORICAL, credit.SENSITIVE],
            )
        ],
        remainder="passthrough",
    )
    model = Pipeline([("encode", encode), ("model", credit.pipeline().steps[-1][1])])
    model.fit(train[features], train[credit.TARGET])
    report = gate(build_example("credit", model, features=features, exclude=[]))
    assert report.verdict == "fail"
    assert "base_case::demographic_parity_difference[gender] <= 0.08" in failed_ids(report)


def test_a_slow_model_fails_latency(
    build_example: Callable[..., LoadedArtifact],
    gate: Callable[..., GateReport],
    zoo: Any,
    apartments_model: Any,
) -> None:
    report = gate(build_example("apartments", zoo.SlowModel(apartments_model), code=[ZOO]))
    assert report.verdict == "fail"
    assert {"base_case::latency_p95_ms <= 100", "base_case::share_latency_over_200ms <= 0.01"} <= failed_ids(
        report
    )
    assert report.scenario("base_case").metrics["latency_p50_ms"] >= 250


def _drop_missing_logistic(train: pd.DataFrame) -> Pipeline:
    known = train.dropna(subset=["credit_history_years"])
    encode = ColumnTransformer(
        [
            (
                "categories",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(credit.CATEGORICAL),
            )
        ],
        remainder=StandardScaler(),
    )
    model = Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=500))])
    return model.fit(known[list(credit.FEATURES)], known[credit.TARGET])


def test_a_model_that_crashes_on_missing_values_fails_error_rate(
    build_example: Callable[..., LoadedArtifact], gate: Callable[..., GateReport], credit_data: Any
) -> None:
    """Logistic regression without an imputer raises on the missing credit histories."""
    report = gate(build_example("credit", _drop_missing_logistic(credit_data.train)))
    assert report.verdict == "fail"
    failed = failed_ids(report)
    assert "missing_values[credit_history_years]::error_rate == 0" in failed
    crashed = report.scenario("missing_values[credit_history_years]")
    assert crashed.outcomes["error"] == crashed.rows
    assert any("NaN" in message for message in crashed.details["errors"])
    assert "missing_values[income]::error_rate == 0" not in failed  # refused cleanly by the schema


def test_a_model_that_returns_nan_on_missing_values_fails_nan_rate(
    build_example: Callable[..., LoadedArtifact], gate: Callable[..., GateReport], zoo: Any, credit_model: Any
) -> None:
    report = gate(build_example("credit", zoo.NanOnMissing(credit_model), code=[ZOO]))
    assert report.verdict == "fail"
    assert "missing_values[credit_history_years]::nan_rate == 0" in failed_ids(report)
    assert report.scenario("missing_values[credit_history_years]").metrics["nan_rate"] == 1.0


def test_a_model_unstable_under_one_percent_perturbations_fails_stability(
    build_example: Callable[..., LoadedArtifact],
    gate: Callable[..., GateReport],
    zoo: Any,
    apartments_model: Any,
) -> None:
    report = gate(build_example("apartments", zoo.ExactKeyCalibration(apartments_model), code=[ZOO]))
    assert report.verdict == "fail"
    assert "stability::relative_change_p95 <= 0.08" in failed_ids(report)
    assert not any(f.scenario == "base_case" for f in report.failures)  # accurate on the base rows
    ranking = report.scenario("stability").details["ranking"]
    assert ranking[0]["feature"] == "zip_avg_price_m2"


def test_a_slightly_worse_challenger_fails_the_paired_test(
    build_example: Callable[..., LoadedArtifact],
    gate: Callable[..., GateReport],
    zoo: Any,
    credit_model: Any,
    healthy_credit: LoadedArtifact,
) -> None:
    challenger = build_example("credit", zoo.SlightlyWorse(credit_model), code=[ZOO])
    report = gate(challenger, champion=healthy_credit, champion_label="credit:1 (credit@champion)")
    failed = failed_ids(report)
    assert report.verdict == "fail"
    assert failed == {"base_case::p_worse(accuracy) >= 0.05"}  # the drop itself is under 0.02
    delta = next(e for e in report.scenario("base_case").expectations if e.check.startswith("delta("))
    assert delta.status == "passed"
    assert -0.02 < delta.value < 0
