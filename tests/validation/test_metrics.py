"""Metric functions against scikit-learn's, bootstrap and McNemar, expectation expressions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as sk

from slipway.validation.bootstrap import interval, mcnemar
from slipway.validation.expressions import parse_check, parse_metric_ref
from slipway.validation.quality import Scored, Task, compute


@pytest.fixture(scope="module")
def binary() -> tuple[Scored, Task]:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 500)
    p1 = np.clip(truth * 0.4 + rng.random(500) * 0.6, 0, 1)
    proba = np.column_stack([1 - p1, p1])
    labels = (p1 > 0.5).astype(np.int64)
    return Scored(truth.astype(object), labels.astype(object), proba), Task.of("classification", (0, 1))


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("accuracy", lambda t, p, q: sk.accuracy_score(t, p)),
        ("precision", lambda t, p, q: sk.precision_score(t, p)),
        ("recall", lambda t, p, q: sk.recall_score(t, p)),
        ("f1", lambda t, p, q: sk.f1_score(t, p)),
        ("balanced_accuracy", lambda t, p, q: sk.balanced_accuracy_score(t, p)),
        ("roc_auc", lambda t, p, q: sk.roc_auc_score(t, q[:, 1])),
        ("log_loss", lambda t, p, q: sk.log_loss(t, q)),
        ("brier_score", lambda t, p, q: sk.brier_score_loss(t, q[:, 1])),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_classification_metrics_match_scikit_learn(
    binary: tuple[Scored, Task], name: str, reference: object
) -> None:
    scored, task = binary
    truth, labels = scored.y_true.astype(np.int64), scored.y_pred.astype(np.int64)
    assert compute(name, scored, task) == pytest.approx(reference(truth, labels, scored.proba), rel=1e-9)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("rmse", lambda t, p: np.sqrt(sk.mean_squared_error(t, p))),
        ("mae", sk.mean_absolute_error),
        ("mape", sk.mean_absolute_percentage_error),
        ("r2", sk.r2_score),
    ],
    ids=["rmse", "mae", "mape", "r2"],
)
def test_regression_metrics_match_scikit_learn(name: str, reference: object) -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(100, 200, 300)
    predicted = truth + rng.normal(0, 10, 300)
    assert compute(name, Scored(truth, predicted), Task("regression")) == pytest.approx(
        reference(truth, predicted), rel=1e-9
    )  # type: ignore[operator]


def test_calibration_error_of_a_calibrated_model_is_small_and_of_an_overconfident_one_large() -> None:
    rng = np.random.default_rng(2)
    p1 = rng.random(20_000)
    truth = (rng.random(20_000) < p1).astype(np.int64).astype(object)
    task = Task.of("classification", (0, 1))
    calibrated = Scored(truth, (p1 > 0.5).astype(np.int64).astype(object), np.column_stack([1 - p1, p1]))
    sharp = np.where(p1 > 0.5, 0.99, 0.01)
    overconfident = Scored(truth, calibrated.y_pred, np.column_stack([1 - sharp, sharp]))
    assert compute("expected_calibration_error", calibrated, task) < 0.02
    assert compute("expected_calibration_error", overconfident, task) > 0.2


def test_undefined_metrics_are_nan() -> None:
    task = Task.of("classification", (0, 1))
    one_class = Scored(
        np.array([1, 1], dtype=object), np.array([1, 0], dtype=object), np.array([[0.2, 0.8], [0.6, 0.4]])
    )
    assert np.isnan(compute("roc_auc", one_class, task))
    assert np.isnan(compute("r2", Scored(np.array([1.0]), np.array([1.0])), Task("regression")))


def test_bootstrap_interval_covers_the_mean() -> None:
    values = np.random.default_rng(3).normal(10, 1, 400)
    low, high = interval(
        lambda rows: float(values[rows].mean()),
        400,
        resamples=300,
        confidence=0.95,
        rng=np.random.default_rng(0),
    ) or (np.nan, np.nan)
    assert low < values.mean() < high
    assert high - low == pytest.approx(2 * 1.96 / np.sqrt(400), rel=0.25)


def test_mcnemar_counts_discordant_rows() -> None:
    champion = np.array([True] * 30 + [False] * 5 + [True] * 65)
    challenger = np.array([False] * 30 + [True] * 5 + [True] * 65)
    found = mcnemar(champion, challenger)
    assert (found.champion_only, found.challenger_only) == (30, 5)
    assert found.p_worse == pytest.approx(found.p_two_sided / 2)
    assert found.p_worse < 1e-4
    assert mcnemar(champion, champion).p_worse == 1.0


@given(
    name=st.sampled_from(["accuracy", "rmse", "latency_p95_ms", "share_latency_over_150ms"]),
    op=st.sampled_from([">=", "<=", ">", "<", "=="]),
    threshold=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_checks_round_trip(name: str, op: str, threshold: float) -> None:
    ref, parsed_op, text = parse_check(f"{name} {op} {threshold!r}")
    assert (str(ref), parsed_op, float(text)) == (name, op, threshold)


@pytest.mark.parametrize(
    ("text", "shown", "column", "value", "comparison"),
    [
        ("recall[gender=F]", "recall[gender=F]", "gender", "F", None),
        ("recall_gap[ gender ]", "recall_gap[gender]", "gender", None, None),
        ("delta(accuracy)", "delta(accuracy)", None, None, "delta"),
        ("demographic_parity_ratio[age]", "demographic_parity_ratio[age]", "age", None, None),
    ],
    ids=["slice", "gap", "delta", "fairness"],
)
def test_metric_references(
    text: str, shown: str, column: str | None, value: str | None, comparison: str | None
) -> None:
    ref = parse_metric_ref(text)
    assert (str(ref), ref.column, ref.value, ref.comparison) == (shown, column, value, comparison)
