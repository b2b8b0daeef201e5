"""The micro-batcher on its own event loop: who scores which batch, and that every request is
answered with its own rows, whether scoring runs on the loop (a request leads each batch) or in
the batcher's thread."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from slipway.core.errors import InvalidInputError
from slipway.scoring.result import ScoredBatch
from slipway.scoring.row_flags import RowFlags
from slipway.serving.batcher import ALONE_BEFORE_EAGER, PROBE_EVERY, MicroBatcher, Outcome


class Doubler:
    """Scores ``x`` as ``2 * x``, records every batch's values; ``x < 0`` is a client error."""

    def __init__(self) -> None:
        self.batches: list[list[float]] = []

    def __call__(self, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> ScoredBatch:
        values = [float(v) for v in columns["x"]]
        if any(v < 0 for v in values):
            raise InvalidInputError(f"x must not be negative, got {min(values)}")
        self.batches.append(values)
        n = len(values)
        return ScoredBatch(
            predictions=np.asarray(values) * 2,
            probabilities=None,
            classes=None,
            rejected=np.zeros(n, dtype=bool),
            flags=RowFlags(n),
            runtime="test",
        )


def answer(outcome: Outcome) -> list[float]:
    return outcome.scored.predictions[outcome.start : outcome.stop].tolist()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize("in_thread", [False, True], ids=["loop", "thread"])
def test_requests_submitted_together_are_scored_as_one_batch(in_thread):
    score = Doubler()

    async def main() -> list[Outcome]:
        batcher = MicroBatcher(score, max_batch_size=64, in_thread=in_thread)
        batcher.start()
        outcomes = await asyncio.gather(*(batcher.submit({"x": [i, i + 0.5]}, 2) for i in range(10)))
        await batcher.stop()
        return outcomes

    outcomes = run(main())
    assert [answer(o) for o in outcomes] == [[2 * i, 2 * i + 1] for i in range(10)]
    assert len(score.batches) == 1 and len(score.batches[0]) == 20
    assert {o.batch_rows for o in outcomes} == {20}


@pytest.mark.parametrize("in_thread", [False, True], ids=["loop", "thread"])
def test_a_burst_larger_than_a_batch_is_split_and_every_request_answered(in_thread):
    score = Doubler()

    async def main() -> list[Outcome]:
        batcher = MicroBatcher(score, max_batch_size=4, queue_size=100, in_thread=in_thread)
        batcher.start()
        outcomes = await asyncio.gather(*(batcher.submit({"x": [i]}, 1) for i in range(30)))
        assert batcher.idle
        await batcher.stop()
        return outcomes

    outcomes = run(main())
    assert [answer(o) for o in outcomes] == [[2 * i] for i in range(30)]
    assert all(len(batch) <= 4 for batch in score.batches)
    assert sorted(v for batch in score.batches for v in batch) == list(range(30))


def test_a_bad_request_fails_alone_and_its_neighbours_are_answered():
    score = Doubler()

    async def main() -> list[Any]:
        batcher = MicroBatcher(score, max_batch_size=64, in_thread=False)
        batcher.start()
        sent = [batcher.submit({"x": [value]}, 1) for value in (1, -1, 3)]
        results = await asyncio.gather(*sent, return_exceptions=True)
        await batcher.stop()
        return results

    first, bad, third = run(main())
    assert answer(first) == [2] and answer(third) == [6]
    assert isinstance(bad, InvalidInputError) and "-1" in str(bad)


def test_the_lead_passes_on_when_the_leading_request_is_cancelled():
    score = Doubler()

    async def main() -> list[Outcome]:
        batcher = MicroBatcher(score, max_batch_size=64, in_thread=False)
        leader = asyncio.ensure_future(batcher.submit({"x": [1]}, 1))
        await asyncio.sleep(0)  # the leader is waiting for requests to join its batch
        followers = [asyncio.ensure_future(batcher.submit({"x": [i]}, 1)) for i in (2, 3)]
        leader.cancel()
        outcomes = await asyncio.wait_for(asyncio.gather(*followers), timeout=5)
        assert leader.cancelled()
        await batcher.stop()
        return outcomes

    outcomes = run(main())
    assert [answer(o) for o in outcomes] == [[4], [6]]
    assert [1.0] not in score.batches, "a request whose client left is not scored"


def test_lone_requests_stop_waiting_a_loop_turn_and_a_burst_batches_them_again():
    score = Doubler()

    async def main() -> tuple[list[float], list[float]]:
        batcher = MicroBatcher(score, max_batch_size=64, in_thread=False)
        for i in range(ALONE_BEFORE_EAGER):  # one client at a time: no batch gathers company
            await batcher.submit({"x": [i]}, 1)
        queued: list[float] = []
        for i in range(PROBE_EVERY - 1):  # scored at once: nothing is ever queued meanwhile
            pending = asyncio.ensure_future(batcher.submit({"x": [i]}, 1))
            await asyncio.sleep(0)
            queued.append(batcher.depth)
            assert answer(await pending) == [2 * i]
        # Many clients at once: the next lone request looks for company again, and finds it.
        burst = await asyncio.gather(*(batcher.submit({"x": [100 + i]}, 1) for i in range(20)))
        await batcher.stop()
        return queued, [answer(o)[0] for o in burst]

    queued, burst = run(main())
    assert queued == [0] * (PROBE_EVERY - 1)
    eager = score.batches[ALONE_BEFORE_EAGER : ALONE_BEFORE_EAGER + PROBE_EVERY - 1]
    assert all(len(batch) == 1 for batch in eager)
    assert burst == [2 * (100 + i) for i in range(20)]
    burst_batches = score.batches[ALONE_BEFORE_EAGER + PROBE_EVERY - 1 :]
    assert max(len(batch) for batch in burst_batches) > 1, "the burst was scored in batches again"


@pytest.mark.parametrize(
    ("in_thread", "max_wait_ms"), [(True, 0.0), (False, 1.0)], ids=["thread", "loop-with-wait"]
)
def test_requests_keep_gathering_in_a_thread_or_with_a_wait(in_thread, max_wait_ms):
    score = Doubler()

    async def main() -> list[Outcome]:
        batcher = MicroBatcher(score, max_batch_size=64, in_thread=in_thread, max_wait_ms=max_wait_ms)
        batcher.start()
        for i in range(ALONE_BEFORE_EAGER + 2):
            await batcher.submit({"x": [i]}, 1)
        outcomes = await asyncio.gather(*(batcher.submit({"x": [i]}, 1) for i in range(10)))
        await batcher.stop()
        return outcomes

    outcomes = run(main())
    assert {o.batch_rows for o in outcomes} == {10}


def test_a_client_error_of_a_request_scored_at_once_is_its_own():
    score = Doubler()
    observed: list[tuple[int, int, bool]] = []

    async def main() -> Any:
        def observe(requests: int, rows: int, scored: ScoredBatch | None, ms: float) -> None:
            observed.append((requests, rows, scored is None))

        batcher = MicroBatcher(score, in_thread=False, observe=observe)
        for i in range(ALONE_BEFORE_EAGER):
            await batcher.submit({"x": [i]}, 1)
        with pytest.raises(InvalidInputError, match="-5"):
            await batcher.submit({"x": [-5]}, 1)
        after = await batcher.submit({"x": [7]}, 1)
        await batcher.stop()
        return after

    assert answer(run(main())) == [14]
    assert observed[-2:] == [(1, 1, True), (1, 1, False)]
