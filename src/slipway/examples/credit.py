"""Credit default: a classifier, with a sensitive attribute kept out of the features.

``gender`` is recorded for fairness analysis but is not a model feature. The generated world has
a realistic problem: income differs between groups, so a model that never sees ``gender`` can
still treat the groups differently, which is what the gate's fairness checks are for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

NAME = "credit"
TARGET = "default"
SENSITIVE = "gender"
CATEGORICAL = ("employment", "purpose")
NUMERIC = ("age", "income", "debt_ratio", "credit_history_years", "late_payments", "loan_amount")
FEATURES = (*NUMERIC, *CATEGORICAL)
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired")
PURPOSE = ("car", "home", "education", "consumer", "business")
MODEL_CARD = {
    "purpose": "Estimate the probability that a consumer loan defaults within 12 months.",
    "owner": "credit-risk@example.com",
    "intended_use": "Pre-screening of loan applications; declines are reviewed by an analyst.",
    "limitations": "Applicants aged 18-80 with incomes up to 250k; gender is not a feature, but "
    "income differs between groups, so outcomes are monitored per group.",
    "risk_level": "high",
}


def generate(rows: int = 6_000, *, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(np.array(["F", "M"]), rows)
    age = rng.integers(18, 81, rows)
    income = np.round(
        np.clip(
            rng.lognormal(np.log(42_000), 0.5, rows) * np.where(gender == "F", 0.88, 1.0), 8_000, 250_000
        ),
        -2,
    )
    debt_ratio = np.round(np.clip(rng.beta(2, 5, rows), 0, 1), 3)
    history = np.clip(np.round(rng.normal((age - 18) * 0.6, 3), 1), 0, None)
    history[rng.random(rows) < 0.03] = np.nan  # some files have no credit history on record
    late = rng.poisson(0.6, rows)
    employment = rng.choice(np.asarray(EMPLOYMENT), rows, p=[0.68, 0.14, 0.08, 0.10])
    purpose = rng.choice(np.asarray(PURPOSE), rows, p=[0.3, 0.25, 0.1, 0.25, 0.1])
    loan = np.round(rng.lognormal(np.log(12_000), 0.7, rows), -2)
    logit = (
        -2.4
        + 3.2 * debt_ratio
        + 0.45 * late
        - 0.9 * np.log(income / 42_000)
        + 0.5 * np.log(loan / 12_000)
        - 0.02 * np.nan_to_num(history, nan=0.0)
        + np.select([employment == "unemployed", employment == "self_employed"], [1.1, 0.3], 0.0)
        + np.where(purpose == "business", 0.4, 0.0)
    )
    default = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "age": age.astype(np.int64),
            "income": income,
            "debt_ratio": debt_ratio,
            "credit_history_years": history,
            "late_payments": late.astype(np.int64),
            "loan_amount": loan,
            "employment": employment.astype(object),
            "purpose": purpose.astype(object),
            SENSITIVE: gender.astype(object),
            TARGET: default,
        }
    )


def split(frame: pd.DataFrame, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    cut1, cut2 = int(0.6 * len(frame)), int(0.8 * len(frame))
    parts = (order[:cut1], order[cut1:cut2], order[cut2:])
    train, validation, holdout = (frame.iloc[index].reset_index(drop=True) for index in parts)
    return train, validation, holdout


def pipeline(**params: Any) -> Pipeline:
    settings = {"max_iter": 150, "learning_rate": 0.08, "random_state": 0, **params}
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL))],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("model", HistGradientBoostingClassifier(**settings))])


def train(frame: pd.DataFrame, **params: Any) -> Pipeline:
    return pipeline(**params).fit(frame[list(FEATURES)], frame[TARGET])
