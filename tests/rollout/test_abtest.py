"""The A/B readout finds a planted effect, and without one stays quiet about as often as alpha says."""

from __future__ import annotations

import numpy as np
import pytest

from slipway.core.errors import InvalidInputError
from slipway.rollout.abtest import readout, sample_size


def test_a_planted_conversion_lift_is_found_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(11)
    stable, candidate = rng.binomial(1, 0.10, 10_000), rng.binomial(1, 0.13, 10_000)
    result = readout(stable, candidate)
    assert result.kind == "conversion" and result.test == "two-proportion z"
    assert result.significant and result.p_value < 0.001
    assert result.ci_low < 0.03 < result.ci_high and result.ci_low > 0


def test_a_planted_continuous_effect_is_found_with_welch() -> None:
    rng = np.random.default_rng(12)
    result = readout(rng.normal(100, 20, 3000), rng.normal(103, 30, 3000))
    assert result.kind == "continuous" and result.test == "Welch t"
    assert result.significant and result.ci_low < 3 < result.ci_high


@pytest.mark.parametrize("kind", ["conversion", "continuous"])
def test_without_an_effect_false_positives_stay_near_alpha(kind: str) -> None:
    positives = 0
    seeds = 400
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        if kind == "conversion":
            a, b = rng.binomial(1, 0.2, 2000), rng.binomial(1, 0.2, 2000)
        else:
            a, b = rng.normal(50, 10, 500), rng.normal(50, 15, 500)
        positives += readout(a, b, alpha=0.05).significant
    rate = positives / seeds
    assert 0.02 <= rate <= 0.085  # alpha 0.05; binomial sd over 400 seeds is ~0.011


def test_the_sample_size_matches_the_textbook_formula() -> None:
    # p = 0.10, absolute MDE 0.01, alpha 0.05 two-sided, power 0.8: 2 * 0.09 * 7.8489 / 0.0001 = 14127.97
    assert sample_size(0.09, 0.09, 0.01, alpha=0.05, power=0.8) == 14_128
    rng = np.random.default_rng(3)
    small = readout(rng.binomial(1, 0.1, 1000), rng.binomial(1, 0.1, 800), mde=0.01)
    assert small.n_per_arm_needed > 10_000 and small.n_more_needed == small.n_per_arm_needed - 800


@pytest.mark.parametrize(
    ("stable", "candidate", "options", "match"),
    [
        ([1.0], [0.0, 1.0], {}, r"at least 2 outcomes per arm; have 1 stable and 2 candidate"),
        ([1.0, 0.0], [0.0, 1.0], {"alpha": 1.5}, r"alpha \(1.5\) and power \(0.8\) must be between 0 and 1"),
        ([1.0, 0.0], [0.0, 1.0], {"mde": -1}, r"minimum detectable effect must be > 0"),
    ],
    ids=["too-few", "alpha", "mde"],
)
def test_bad_readout_requests_are_refused(
    stable: list[float], candidate: list[float], options: dict[str, float], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        readout(stable, candidate, **options)
