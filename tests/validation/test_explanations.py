"""Explanations: permutation importance always, SHAP values when shap is installed and asked for."""

from __future__ import annotations

from typing import Any

import pytest

from slipway.artifacts.loader import LoadedArtifact
from slipway.scoring.scorer import Scorer
from slipway.validation import explain
from slipway.validation.quality import Task


def test_permutation_importance_ranks_the_features_that_matter(
    healthy_credit: LoadedArtifact, credit_data: Any
) -> None:
    rows = credit_data.holdout.head(400)
    ranking = explain.permutation_importance(
        Scorer(healthy_credit),
        rows,
        rows["default"].to_numpy(),
        Task.of("classification", (0, 1)),
        metric="roc_auc",
        repeats=3,
        seed=0,
    )
    assert {item["feature"] for item in ranking} == set(healthy_credit.features)
    assert ranking[0]["feature"] in {"debt_ratio", "income", "late_payments"}
    assert (
        ranking[0]["importance"] > 0.02 > abs(next(r for r in ranking if r["feature"] == "age")["importance"])
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not explain.shap_available(), reason="shap is not installed (pip install 'slipway[explain]')"
)
def test_shap_values_explain_through_the_scorer(healthy_credit: LoadedArtifact, credit_data: Any) -> None:
    ranking = explain.shap_importance(
        Scorer(healthy_credit), credit_data.holdout, Task.of("classification", (0, 1)), seed=0
    )
    assert {item["feature"] for item in ranking} == set(healthy_credit.features)
    assert all(item["mean_abs_shap"] >= 0 for item in ranking)
    assert ranking[0]["feature"] in {"debt_ratio", "income", "late_payments", "loan_amount"}
