"""Rollouts over a real registry (memory, SQLite, PostgreSQL): every strategy's life cycle, its
audit trail, bad input, and the controller's compare-and-set under concurrent ticks."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from rollout_windows import window

from slipway.core.deployment import DeploymentState, ExposureRecord
from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError
from slipway.registry.service import Registry
from slipway.rollout.routing import Traffic
from slipway.rollout.service import Rollouts

CANARY = {"steps": [5, 25, 50, 100], "min_requests": 100, "min_seconds": 30}


START = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _clock() -> None:
    """Each test's simulated clock starts when the test does (PostgreSQL tests start much later)."""
    global START
    START = datetime.now(UTC)


def later(seconds: float = 60) -> datetime:
    return START + timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def actions(registry: Registry) -> list[str]:
    return [e.action for e in registry.audit_log() if e.subject == "deployment/apartments"]


def feed(rollouts: Rollouts, *, seed: int, at: datetime | None = None, **defect: float) -> None:
    """Windows as the serving workers flush them (stamped ``at``, on a simulated clock)."""
    record = rollouts.deployments.get("apartments")
    assert record.candidate is not None
    stamp = iso(at) if at else None
    rollouts.deployments.record_stats(
        [
            window("stable", record.stable.version, requests=2000, seed=seed, at=stamp),
            window("candidate", record.candidate.version, requests=300, seed=seed + 1, at=stamp, **defect),
        ]
    )


def test_a_healthy_canary_steps_through_and_is_promoted(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    record = rollouts.start("apartments", "apartments:2", strategy="canary", **CANARY)
    assert Traffic.of(record).candidate_percent == 5
    _, verdict, action = rollouts.tick("apartments")
    assert action is None and verdict is not None and verdict.decision == "hold"  # no traffic yet
    for step, seed in enumerate((10, 20, 30)):
        start = 60 * step  # the previous step's promotion started this one at this simulated time
        feed(rollouts, seed=seed, at=later(start + 2))
        assert rollouts.tick("apartments", now=later(start + 5))[2] is None  # minimum time not reached
        record, verdict, action = rollouts.tick("apartments", now=later(start + 60))
        assert verdict is not None and verdict.decision == "promote", verdict.reasons
        assert action == ("rollout.promoted" if step == 2 else "rollout.step_promoted")
    assert (record.state, record.stable.version, record.candidate) == (DeploymentState.STABLE, 2, None)
    assert actions(registry) == [
        "deployment.created", "rollout.started", "rollout.step_promoted", "rollout.step_promoted",
        "rollout.promoted",
    ]  # fmt: skip
    promoted = registry.audit_log()[-1]
    assert promoted.after is not None and promoted.after["result"] == "promoted"
    assert promoted.after["analysis"]["checks"][0]["name"] == "error rate"
    assert promoted.after["analysis"]["candidate"]["requests"] == 300


def test_a_bad_canary_is_rolled_back_with_its_reasons(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    rollouts.start("apartments", "apartments:3", strategy="canary", **CANARY)
    feed(rollouts, seed=1, error_rate=0.2)
    record, _, action = rollouts.tick("apartments", now=later(1))
    assert action == "rollout.rolled_back"
    assert (record.state, record.stable.version, record.candidate) == (DeploymentState.STABLE, 1, None)
    event = registry.audit_log()[-1]
    assert event.after is not None and event.after["candidate"] == 3
    assert event.after["analysis"]["candidate"]["requests"] == 300  # what it took to decide
    assert event.after["reasons"][0].startswith("error rate: candidate 2")


def test_approval_holds_the_last_step(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    rollouts.start(
        "apartments", "apartments:2", strategy="canary", steps="10,100", approval=True, min_seconds=0
    )
    feed(rollouts, seed=5)
    record, _, action = rollouts.tick("apartments")
    assert (action, record.state) == ("rollout.held", DeploymentState.AWAITING_APPROVAL)
    assert Traffic.of(record).candidate_percent == 10
    assert rollouts.tick("apartments")[2] is None  # waiting for a person, not for data
    record = rollouts.approve("apartments")
    assert (record.state, record.stable.version) == (DeploymentState.STABLE, 2)
    assert actions(registry)[-2:] == ["rollout.held", "rollout.approved"]
    with pytest.raises(ConflictError, match="not awaiting approval"):
        rollouts.approve("apartments")


def test_blue_green_switches_rolls_back_and_retires(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    record = rollouts.start("apartments", "apartments:2", strategy="blue-green")
    assert Traffic.of(record).candidate_percent == 0  # loading and warming up
    record = rollouts.switch("apartments")
    assert Traffic.of(record).candidate_percent == 100 and record.stable.version == 1  # kept for rollback
    record = rollouts.rollback("apartments", reason="smoke test in prod failed")
    assert (Traffic.of(record).candidate_percent, record.stable.version) == (0, 1)
    rollouts.start("apartments", "apartments:2", strategy="blue-green")
    rollouts.switch("apartments")
    record = rollouts.retire("apartments")
    assert (record.stable.version, record.candidate, record.state) == (2, None, DeploymentState.STABLE)
    assert actions(registry)[1:] == [
        "rollout.started", "rollout.switched", "rollout.rolled_back",
        "rollout.started", "rollout.switched", "rollout.retired",
    ]  # fmt: skip


def test_an_ab_test_takes_feedback_and_reads_out(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    record = rollouts.start("apartments", "apartments:2", strategy="ab", split=50)
    traffic = Traffic.of(record)
    from slipway.rollout.routing import route

    exposures = [
        ExposureRecord(f"r{i}", "apartments", slot, 2 if slot == "candidate" else 1, "t", user_key=f"u{i}")
        for i in range(400)
        for slot in [route(traffic, f"u{i}", 0.0)]
    ]
    rollouts.deployments.record_exposures(exposures)
    for i, exposure in enumerate(exposures):
        converted = (i % 10 < 5) if exposure.slot == "candidate" else (i % 10 < 2)  # 50% vs 20%
        if i % 2:
            rollouts.feedback("apartments", float(converted), request_id=exposure.request_id)
        else:
            rollouts.feedback("apartments", float(converted), user_key=exposure.user_key)
    report = rollouts.ab_report("apartments")
    assert report.kind == "conversion" and report.significant
    assert 0.2 < report.effect < 0.4 and report.n_stable + report.n_candidate == 400
    with pytest.raises(NotFoundError, match="deployment 'apartments' has no request 'nope'"):
        rollouts.feedback("apartments", 1.0, request_id="nope")
    with pytest.raises(NotFoundError, match="has not served user key 'stranger'"):
        rollouts.feedback("apartments", 1.0, user_key="stranger")
    with pytest.raises(InvalidInputError, match="exactly one of request_id or user_key"):
        rollouts.feedback("apartments", 1.0)
    rollouts.promote("apartments", reason="B converts better")
    assert actions(registry)[-2:] == ["ab.started", "ab.stopped"]


def test_bad_rollouts_are_refused_with_clear_errors(rollouts: Rollouts) -> None:
    with pytest.raises(NotFoundError, match=r"no deployment 'apartments'.*slipway deploy apartments"):
        rollouts.start("apartments", "apartments:2")
    rollouts.deploy("apartments", "apartments:1")
    with pytest.raises(NotFoundError, match="no version 9"):
        rollouts.start("apartments", "apartments:9")
    with pytest.raises(InvalidInputError, match="canary step 120 is outside 0-100"):
        rollouts.start("apartments", "apartments:2", steps=[5, 120])
    with pytest.raises(InvalidInputError, match="already serves as stable"):
        rollouts.start("apartments", "apartments:1")
    with pytest.raises(InvalidInputError, match="unknown slot option\\(s\\) gpu"):
        rollouts.start("apartments", "apartments:2", options={"gpu": True})
    rollouts.start("apartments", "apartments:2")
    with pytest.raises(ConflictError, match="already has a canary rollout of apartments:2 running"):
        rollouts.start("apartments", "apartments:3", strategy="ab")
    with pytest.raises(ConflictError, match="already has a canary rollout"):
        rollouts.deploy("apartments", "apartments:3")
    rollouts.rollback("apartments")
    with pytest.raises(ConflictError, match="has no rollout running; nothing to roll back"):
        rollouts.rollback("apartments")


def test_concurrent_controllers_advance_a_step_only_once(rollouts: Rollouts, registry: Registry) -> None:
    rollouts.deploy("apartments", "apartments:1")
    rollouts.start("apartments", "apartments:2", **CANARY)
    feed(rollouts, seed=3)
    results: list[str | None] = []
    barrier = threading.Barrier(6)

    def tick() -> None:
        barrier.wait()
        results.append(rollouts.tick("apartments", now=later())[2])

    threads = [threading.Thread(target=tick) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("rollout.step_promoted") == 1
    assert rollouts.deployments.get("apartments").step == 1
    assert actions(registry).count("rollout.step_promoted") == 1
    assert registry.verify_audit().ok


def test_status_reports_what_a_shadow_did(rollouts: Rollouts) -> None:
    rollouts.deploy("apartments", "apartments:1")
    rollouts.start("apartments", "apartments:2", strategy="shadow")
    copy = window("candidate", 2, requests=100, seed=4)
    copy = dataclasses.replace(
        copy, extra={"shadow_compared": 80.0, "shadow_agreed": 60.0, "shadow_abs_delta": 40.0}
    )
    rollouts.deployments.record_stats([window("stable", 1, requests=100), copy])
    shadow = rollouts.status("apartments")["shadow"]
    assert (shadow["copies"], shadow["compared"], shadow["agreement"], shadow["mean_abs_delta"]) == (
        100,
        80,
        0.75,
        0.5,
    )
    assert shadow["candidate_p95_ms"] is not None and shadow["stable_p95_ms"] is not None
