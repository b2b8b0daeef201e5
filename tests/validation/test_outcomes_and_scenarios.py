"""Row outcomes (scored, refused, NaN, error) and the scenario datasets the gate builds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from slipway.artifacts.loader import LoadedArtifact
from slipway.core.errors import InvalidInputError
from slipway.scoring.runtime import NativeRuntime, Prediction
from slipway.scoring.schema import Columns
from slipway.scoring.scorer import Scorer
from slipway.validation.derived import UNSEEN
from slipway.validation.outcomes import ERROR, NAN, REFUSED, SCORED, score_outcomes
from slipway.validation.plan_files import PlanSource, parse_plan
from slipway.validation.scenarios import Binding, build_scenarios
from slipway.validation.synthetic import sample_profile
from slipway.validation.windows import split_windows


class FragileRuntime:
    """Raises on any batch holding a loan over 60,000; returns NaN for ages over 75."""

    name = "fragile"

    def __init__(self, artifact: LoadedArtifact) -> None:
        self.native = NativeRuntime(artifact.runner)

    def predict(self, columns: Columns, features: tuple[str, ...]) -> Prediction:
        if (np.asarray(columns["loan_amount"]) > 60_000).any():
            raise ValueError("loan amount out of the lookup table")
        found = self.native.predict(columns, features)
        values = found.values.astype(object)
        values[np.asarray(columns["age"]) > 75] = np.nan
        return Prediction(values, found.probabilities)


def test_each_row_gets_its_outcome(healthy_credit: LoadedArtifact, credit_data: Any) -> None:
    rows = credit_data.holdout.head(400).copy()
    rows["income"] = rows["income"].astype(object)
    rows.loc[[5, 77], "income"] = "lots"  # refused by the schema
    scorer = Scorer(healthy_credit, runtime=FragileRuntime(healthy_credit))
    outcome = score_outcomes(scorer, rows)
    crash = (rows["loan_amount"] > 60_000).to_numpy()
    nan = (rows["age"] > 75).to_numpy() & ~crash
    refused = np.isin(np.arange(400), [5, 77])
    assert crash.any()
    assert nan.any()
    assert np.flatnonzero(outcome.status == REFUSED).tolist() == [5, 77]
    assert np.array_equal(outcome.status == ERROR, crash & ~refused)
    assert np.array_equal(outcome.status == NAN, nan & ~refused)
    assert (outcome.status == SCORED).sum() == 400 - refused.sum() - (crash & ~refused).sum() - (
        nan & ~refused
    ).sum()
    assert list(outcome.errors) == ["ValueError: loan amount out of the lookup table"]
    assert "column 'income', row 5: expected a number, got 'lots'" in next(iter(outcome.refusals))


def test_derived_scenarios_carry_one_oddity_each(healthy_credit: LoadedArtifact, credit_data: Any) -> None:
    plan = parse_plan(
        {
            "scenarios": {
                "base_case": {"data": credit_data.holdout},
                "missing_values": {"rows": 50, "features": ["income", "purpose"]},
                "extreme_values": {"rows": 50, "features": ["income"]},
                "unseen_categories": {"rows": 50},
                "wrong_types": {"rows": 50},
                "duplicated_rows": {"rows": 50},
                "empty_strings": {"rows": 50},
                "synthetic": {"rows": 80},
            }
        }
    )
    binding = Binding(
        PlanSource(plan, None, "test"), healthy_credit.features, "default", healthy_credit.profile
    )
    built = {s.name: s for s in build_scenarios(binding)}
    assert next(iter(built)) == "base_case"
    assert built["missing_values[income]"].frame["income"].isna().all()
    assert built["missing_values[all]"].frame[["income", "purpose"]].isna().all().all()
    assert not built["missing_values[income]"].frame["age"].isna().any()
    income = healthy_credit.profile.feature("income")  # type: ignore[union-attr]
    extreme = built["extreme_values[income]"].frame["income"]
    assert ((extreme > income.maximum) | (extreme < income.minimum)).all()
    assert (built["unseen_categories[employment]"].frame["employment"] == UNSEEN).all()
    assert built["wrong_types[numbers_as_text]"].frame["income"].map(type).eq(str).all()
    assert built["wrong_types[integers_as_floats]"].frame["age"].dtype == np.float64
    assert len(built["duplicated_rows"].frame) == 100
    assert (built["empty_strings"].frame[["employment", "purpose"]] == "").all().all()
    synthetic = built["synthetic"].frame
    assert len(synthetic) == 80
    assert set(synthetic.columns) == set(healthy_credit.features)
    assert set(synthetic["employment"]) <= {"employed", "self_employed", "unemployed", "retired"}


def test_synthetic_rows_follow_the_profile(healthy_credit: LoadedArtifact) -> None:
    profile = healthy_credit.profile
    assert profile is not None
    rows = sample_profile(profile, 5000, np.random.default_rng(0))
    income = profile.feature("income")
    assert income.minimum <= rows["income"].min()
    assert rows["income"].max() <= income.maximum  # type: ignore[operator]
    assert rows["income"].median() == pytest.approx(income.quantiles["0.5"], rel=0.05)  # type: ignore[index]
    assert rows["credit_history_years"].isna().mean() == pytest.approx(
        profile.feature("credit_history_years").missing_rate, abs=0.01
    )
    assert rows["age"].dtype == np.int64


def test_windows_are_named_by_their_days_or_hours() -> None:
    times = pd.to_datetime(["2026-11-01T00:10", "2026-11-01T13:00", "2026-11-03T08:00"], utc=True)
    frame = pd.DataFrame({"at": times, "x": [1, 2, 3]})
    daily = [name for name, *_ in split_windows(frame, name="prod", time_column="at", every="1d", where="w")]
    assert daily == ["prod_2026-11-01_to_2026-11-01", "prod_2026-11-03_to_2026-11-03"]
    hourly = [
        name for name, *_ in split_windows(frame, name="prod", time_column="at", every="12h", where="w")
    ]
    assert hourly == [
        "prod_2026-11-01T00_to_2026-11-01T11",
        "prod_2026-11-01T12_to_2026-11-01T23",
        "prod_2026-11-03T00_to_2026-11-03T11",
    ]
    with pytest.raises(
        InvalidInputError, match=r"w: cannot read window length '7 days'; use e\.g\. 12h, 1d, 7d or 2w"
    ):
        list(split_windows(frame, name="prod", time_column="at", every="7 days", where="w"))
    with pytest.raises(InvalidInputError, match=r"w: time column 'time' is not in the data; columns: at, x"):
        list(split_windows(frame, name="prod", time_column="time", every="1d", where="w"))
