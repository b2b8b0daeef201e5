"""Policies: defaults, round trips, and a clear error for every bad value."""

from __future__ import annotations

from typing import Any

import pytest

from slipway.core.errors import InvalidInputError
from slipway.rollout.policy import Strategy, Thresholds, parse_policy


def test_a_canary_policy_round_trips_with_its_defaults() -> None:
    policy = parse_policy({"strategy": "canary", "steps": "5,25,50,100", "salt": "abc"})
    assert policy.strategy is Strategy.CANARY
    assert policy.steps == (5.0, 25.0, 50.0, 100.0)
    assert policy.last_analyzed_step == 2
    assert parse_policy(policy.to_dict()) == policy


def test_a_salt_is_drawn_when_none_is_given() -> None:
    assert parse_policy({"strategy": "ab"}).salt != parse_policy({"strategy": "ab"}).salt


def test_blue_green_is_accepted_with_a_dash() -> None:
    assert parse_policy({"strategy": "blue-green"}).strategy is Strategy.BLUE_GREEN


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"strategy": "linear"}, r"unknown strategy 'linear'; use one of: single, blue-green, canary"),
        ({"strategy": "canary", "steps": [5, 150]}, r"canary step 150 is outside 0-100"),
        ({"strategy": "canary", "steps": [-5, 100]}, r"canary step -5 is outside 0-100"),
        ({"strategy": "canary", "steps": [25, 5, 100]}, r"not increasing \(5 after 25\)"),
        ({"strategy": "canary", "steps": [5, 25, 25, 100]}, r"not increasing \(25 after 25\)"),
        ({"strategy": "canary", "steps": [5, 50]}, r"start above 0 and end at 100"),
        ({"strategy": "canary", "steps": [100]}, r"at least two percentages"),
        ({"strategy": "canary", "steps": "5,x,100"}, r"canary step 'x' is not a number"),
        ({"strategy": "ab", "split": 100}, r"A/B split 100 leaves one side without traffic"),
        ({"strategy": "ab", "split": 101}, r"A/B split 101 is outside 0-100"),
        ({"strategy": "shadow", "shadow_percent": float("nan")}, r"not a finite number"),
        ({"strategy": "canary", "min_requests": -1}, r"min_requests must be >= 0, got -1"),
        ({"strategy": "canary", "approval": "yes"}, r"approval must be true or false"),
        ({"strategy": "canary", "thresholds": {"p99": 2}}, r"unknown canary threshold\(s\) p99"),
        ({"strategy": "canary", "thresholds": {"alpha": 2}}, r"alpha and ks_alpha must be between 0 and 1"),
    ],
    ids=[
        "strategy", "step-over-100", "step-negative", "steps-decreasing", "steps-repeated",
        "steps-not-to-100", "one-step", "step-not-number", "split-100", "split-over-100", "nan",
        "negative-requests", "approval-not-bool", "unknown-threshold", "alpha",
    ],
)  # fmt: skip
def test_bad_policies_are_refused_with_the_offending_value(data: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        parse_policy(data)


def test_thresholds_parse_from_json() -> None:
    assert Thresholds.from_dict({"latency_p95_ratio": 3, "min_samples": 50.0}) == Thresholds(
        latency_p95_ratio=3.0, min_samples=50
    )
