"""Canary analysis on stats windows: each planted defect rolls back; healthy canaries promote."""

from __future__ import annotations

import numpy as np
import pytest
from rollout_windows import window

from slipway.rollout.analysis import Decision, StepProgress, analyze, psi, summarize
from slipway.rollout.policy import Thresholds
from slipway.rollout.sketch import LATENCY_BOUNDS_MS, latency_bucket, merge_counts, quantile_ms

READY = StepProgress(min_requests=200, min_seconds=0, elapsed_s=10)


def verdict(candidate_requests: int = 300, progress: StepProgress = READY, seed: int = 0, **defect: float):
    windows = [
        window("stable", 1, requests=3000, seed=seed),
        window("stable", 1, requests=3000, seed=seed + 1000),  # a second worker
        window("candidate", 2, requests=candidate_requests, seed=seed + 2000, **defect),
    ]
    return analyze(
        summarize(windows, slot="stable", version=1),
        summarize(windows, slot="candidate", version=2),
        Thresholds(),
        progress,
    )


def test_a_healthy_canary_is_promoted_once_it_has_enough_requests_and_time() -> None:
    assert verdict().decision is Decision.PROMOTE
    held = verdict(candidate_requests=100)
    assert held.decision is Decision.HOLD
    assert held.reasons == ("candidate answered 100 of 200 requests",)
    waiting = verdict(progress=StepProgress(200, 60, 12))
    assert waiting.decision is Decision.HOLD
    assert waiting.reasons == ("step has run 12 of 60 s",)


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ({"error_rate": 0.2}, "error rate"),
        ({"latency_ms": 10.0}, "latency p95"),
        ({"prediction_shift": 900.0}, "prediction distribution"),
        ({"flag_rate": 0.3}, "guard flag rate"),
    ],
    ids=["20%-errors", "5x-latency", "shifted-predictions", "high-flag-rate"],
)
def test_a_planted_defect_rolls_back_before_the_minimum_requests(
    defect: dict[str, float], check: str
) -> None:
    result = verdict(candidate_requests=100, **defect)
    assert result.decision is Decision.ROLLBACK
    assert [c.name for c in result.checks if c.passed is False] == [check]
    assert result.reasons[0].startswith(check)


def test_healthy_canaries_are_not_rolled_back_over_many_seeds() -> None:
    decisions = [verdict(seed=seed).decision for seed in range(60)]
    assert decisions.count(Decision.ROLLBACK) <= 1


def test_a_worse_model_metric_rolls_back_and_a_similar_one_does_not() -> None:
    rng = np.random.default_rng(7)
    stable_errors = np.abs(rng.normal(0, 100, 200))
    summary = summarize([window("stable", 1, requests=500)], slot="stable", version=1)
    cand = summarize([window("candidate", 2, requests=500, seed=3)], slot="candidate", version=2)
    worse = analyze(summary, cand, Thresholds(), READY, outcome_errors=(stable_errors, stable_errors * 1.6))
    same = np.abs(rng.normal(0, 100, 200))
    fine = analyze(summary, cand, Thresholds(), READY, outcome_errors=(stable_errors, same))
    assert worse.decision is Decision.ROLLBACK and worse.reasons[0].startswith("model metric")
    assert fine.decision is Decision.PROMOTE


def test_checks_without_enough_data_neither_pass_nor_fail() -> None:
    result = verdict(candidate_requests=5)
    by_name = {c.name: c.passed for c in result.checks}
    assert by_name["latency p95"] is None and by_name["prediction distribution"] is None
    assert result.decision is Decision.HOLD


def test_latency_quantiles_from_merged_histograms_are_within_one_bucket() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 1, 5000), rng.lognormal(1, 0.5, 5000)
    counts = [[0] * len(LATENCY_BOUNDS_MS) for _ in range(2)]
    for index, values in enumerate((a, b)):
        for value in values:
            counts[index][latency_bucket(float(value))] += 1
    merged = merge_counts(counts)
    true_p95 = float(np.quantile(np.concatenate([a, b]), 0.95))
    estimate = quantile_ms(merged, 0.95)
    assert estimate is not None and true_p95 <= estimate <= true_p95 * 1.15 + 1e-9
    assert quantile_ms([0] * len(LATENCY_BOUNDS_MS), 0.5) is None


def test_psi_is_near_zero_for_one_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, 2000)
    assert psi(base, rng.normal(0, 1, 2000)) < 0.05
    assert psi(base, rng.normal(1, 1, 2000)) > 0.5
    assert psi([0, 1] * 500, [1] * 900 + [0] * 100) > 0.5  # class labels compare value by value
