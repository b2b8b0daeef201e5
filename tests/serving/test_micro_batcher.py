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
from slipway.serving.batcher import MicroBatcher, Outcome


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
