"""The routing decision: split ratios, stickiness, monotone canary steps, stable across processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from slipway.core.deployment import CANDIDATE, STABLE, DeploymentRecord, DeploymentState, SlotRecord
from slipway.rollout.policy import parse_policy
from slipway.rollout.routing import Traffic, bucket, mirrors, route

USERS = [f"user-{i}" for i in range(20_000)]
percents = hs.floats(min_value=1, max_value=99, allow_nan=False)
salts = hs.text(min_size=1, max_size=16)
names = hs.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


@settings(max_examples=20, deadline=None)
@given(percent=percents, salt=salts, name=names)
def test_sticky_users_split_in_the_configured_ratio(percent: float, salt: str, name: str) -> None:
    traffic = Traffic(name, salt, candidate_percent=percent)
    share = sum(route(traffic, user, 0.0) == CANDIDATE for user in USERS) / len(USERS)
    assert abs(share * 100 - percent) < 1.5  # binomial sd at 20,000 users is at most 0.35 points


@settings(max_examples=20, deadline=None)
@given(percent=percents, draws=hs.lists(hs.floats(0, 1, exclude_max=True), min_size=1, max_size=1))
def test_requests_without_a_key_follow_the_draw(percent: float, draws: list[float]) -> None:
    traffic = Traffic("d", "s", candidate_percent=percent)
    assert route(traffic, None, draws[0]) == (CANDIDATE if draws[0] * 100 < percent else STABLE)
    share = sum(route(traffic, None, i / 10_000) == CANDIDATE for i in range(10_000)) / 10_000
    assert abs(share * 100 - percent) <= 0.011 * 100


@settings(max_examples=200)
@given(
    percent=percents, salt=salts, user=hs.text(max_size=40), draw_a=hs.floats(0, 1), draw_b=hs.floats(0, 1)
)
def test_a_user_always_gets_the_same_slot(
    percent: float, salt: str, user: str, draw_a: float, draw_b: float
) -> None:
    traffic = Traffic("apartments", salt, candidate_percent=percent)
    assert route(traffic, user, draw_a) == route(traffic, user, draw_b)


@settings(max_examples=200)
@given(low=percents, high=percents, salt=salts, user=hs.text(max_size=40))
def test_raising_the_canary_share_only_moves_users_to_the_candidate(
    low: float, high: float, salt: str, user: str
) -> None:
    low, high = min(low, high), max(low, high)
    before = route(Traffic("d", salt, candidate_percent=low), user, 0.5)
    after = route(Traffic("d", salt, candidate_percent=high), user, 0.5)
    assert not (before == CANDIDATE and after == STABLE)


@given(user=hs.text(max_size=40), draw=hs.floats(0, 1, exclude_max=True))
def test_zero_and_full_shares_send_everyone_one_way(user: str, draw: float) -> None:
    assert route(Traffic("d", "s", candidate_percent=0), user, draw) == STABLE
    assert route(Traffic("d", "s", candidate_percent=100), user, draw) == CANDIDATE
    assert route(Traffic("d", "s", candidate_percent=0), None, draw) == STABLE


def test_a_new_salt_reshuffles_users() -> None:
    a, b = Traffic("d", "salt-a", candidate_percent=50), Traffic("d", "salt-b", candidate_percent=50)
    moved = sum(route(a, u, 0) != route(b, u, 0) for u in USERS[:2000])
    assert 800 < moved < 1200  # independent placements disagree about half the time


def test_placement_is_the_same_in_another_process_with_another_hash_seed() -> None:
    code = "from slipway.rollout.routing import bucket; print(repr(bucket('apartments', 's1', 'user-42')))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert float(other.stdout) == bucket("apartments", "s1", "user-42")
    assert bucket("apartments", "s1", "user-42") == pytest.approx(
        0.43103892480399186
    )  # pinned: replicas agree


def _record(state: DeploymentState, strategy: dict[str, object], *, step: int = 0) -> DeploymentRecord:
    stable, candidate = SlotRecord("m", 1, "a" * 64), SlotRecord("m", 2, "b" * 64)
    policy = parse_policy({"salt": "s", **strategy}).to_dict()
    return DeploymentRecord("d", stable, policy, state, "t", "t", candidate=candidate, step=step)


@pytest.mark.parametrize(
    ("state", "policy", "step", "candidate", "mirror"),
    [
        (DeploymentState.ROLLING, {"strategy": "canary", "steps": [5, 25, 50, 100]}, 1, 25.0, 0.0),
        (DeploymentState.AWAITING_APPROVAL, {"strategy": "canary", "steps": [5, 25, 50, 100]}, 2, 50.0, 0.0),
        (DeploymentState.ROLLING, {"strategy": "ab", "split": 30}, 0, 30.0, 0.0),
        (DeploymentState.ROLLING, {"strategy": "shadow"}, 0, 0.0, 100.0),
        (DeploymentState.ROLLING, {"strategy": "blue_green"}, 0, 0.0, 0.0),
        (DeploymentState.SWITCHED, {"strategy": "blue_green"}, 0, 100.0, 0.0),
        (DeploymentState.STABLE, {"strategy": "single"}, 0, 0.0, 0.0),
    ],
    ids=[
        "canary-step",
        "awaiting-approval",
        "ab",
        "shadow",
        "blue-green-warming",
        "blue-green-switched",
        "single",
    ],
)
def test_traffic_follows_state_and_strategy(
    state: DeploymentState, policy: dict[str, object], step: int, candidate: float, mirror: float
) -> None:
    traffic = Traffic.of(_record(state, policy, step=step))
    assert (traffic.candidate_percent, traffic.mirror_percent) == (candidate, mirror)
    assert mirrors(traffic, 0.5) is (mirror > 50)
