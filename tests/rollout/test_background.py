"""The serving worker's background parts: bounded buffered writes, the shadow queue, the agent."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from slipway.core.deployment import DeploymentRecord
from slipway.rollout.agent import DeploymentAgent
from slipway.rollout.buffer import BufferedWriter
from slipway.rollout.service import Rollouts
from slipway.rollout.shadow import ShadowRunner


def test_a_slow_sink_makes_the_buffer_drop_and_count_never_block() -> None:
    gate, written = threading.Event(), []

    def slow_sink(batch: Sequence[int]) -> None:
        gate.wait(30)  # the sink is stuck until the test releases it
        written.extend(batch)

    writer = BufferedWriter(slow_sink, capacity=100, batch_size=10, interval_s=0.01)
    accepted = [writer.offer(i) for i in range(1000)]  # would hang here if offer waited for the sink
    gate.set()
    writer.close()
    assert writer.dropped == accepted.count(False) > 0
    assert writer.written == len(written) == accepted.count(True)
    assert sorted(written) == written  # order kept


def test_a_failing_sink_loses_its_batch_and_the_writer_goes_on() -> None:
    calls: list[list[int]] = []

    def flaky(batch: Sequence[int]) -> None:
        calls.append(list(batch))
        if len(calls) == 1:
            raise OSError("database went away")

    writer = BufferedWriter(flaky, batch_size=5, interval_s=0.01)
    for i in range(5):
        writer.offer(i)
    while not calls:
        threading.Event().wait(0.01)
    for i in range(5, 8):
        writer.offer(i)
    writer.close()
    assert writer.failed == 5 and writer.written == 3 and calls[-1] == [5, 6, 7]


def test_shadow_copies_are_scored_in_batches_failures_counted_and_a_full_queue_drops() -> None:
    gate, busy = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def handle(batch: list[int]) -> int:
        batches.append(batch)
        if batch == [0]:  # the first copy holds the thread until the gate opens
            busy.set()
            gate.wait(30)
        elif 99 in batch:
            raise RuntimeError("the candidate failed")
        return sum(item == 2 for item in batch)  # copy 2 failed alone

    runner: ShadowRunner[int] = ShadowRunner(handle, capacity=3, pause_s=0)
    runner.submit(0)
    busy.wait(30)
    results = [runner.submit(i) for i in range(1, 6)]
    gate.set()
    while runner.done + runner.failed < 4:
        threading.Event().wait(0.01)
    runner.submit(99)
    runner.submit(100)
    runner.close()
    assert results == [True, True, True, False, False] and runner.dropped == 2
    assert batches[:2] == [[0], [1, 2, 3]]  # what queued while the thread was busy is one batch
    raised = sum(len(b) for b in batches if 99 in b)  # a batch whose handler raised counts all its copies
    assert runner.failed == 1 + raised and runner.done == 6 - runner.failed
    assert runner.batches == len(batches)


def test_agents_of_two_workers_feed_one_analysis_and_follow_the_registry(rollouts: Rollouts) -> None:
    rollouts.deploy("apartments", "apartments:1")
    rollouts.start("apartments", "apartments:2", steps="10,100", min_requests=50, min_seconds=0)
    changes: list[DeploymentRecord] = []
    agents = [
        DeploymentAgent(rollouts, "apartments", worker=f"w{i}", on_change=changes.append) for i in (1, 2)
    ]
    assert agents[0].traffic.candidate_percent == 10
    for agent in agents:
        for i in range(400):
            agent.stats("stable", 1).record(2.0, prediction=3000.0 + i)
        for i in range(40):
            agent.stats("candidate", 2).record(2.1, prediction=3000.0 + 10 * i)
        agent.flush()
    verdict = rollouts.evaluate(rollouts.deployments.get("apartments"))
    assert verdict is not None and (verdict.candidate.requests, verdict.stable.requests) == (80, 800)
    agents[0].step()  # flush, control (promotes: the last analyzed step passed), refresh
    agents[1].step()  # sees the change
    assert [a.record.stable.version for a in agents] == [2, 2]
    assert [a.traffic.candidate_percent for a in agents] == [0, 0]
    assert len(changes) == 2 and agents[0].errors == agents[1].errors == 0
    assert agents[0].stats("stable", 2) is not agents[0].stats("candidate", 2)
