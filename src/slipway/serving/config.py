"""How one server scores: batching, limits, probes. Checked once, with errors naming the option."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from slipway.core.errors import InvalidInputError

ScoreIn = Literal["auto", "thread", "loop"]


@dataclass(frozen=True, slots=True)
class ServeConfig:
    #: Most rows scored together in one call of the model.
    max_batch_size: int = 64
    #: How long the batcher waits for more requests once it has one. 0: it takes what is queued
    #: already, so a lone request never waits (while a batch scores, the next ones queue up).
    max_wait_ms: float = 0.0
    #: Requests waiting to be scored; past it the server answers 503 with Retry-After at once.
    queue_size: int = 256
    #: Largest request body accepted (413 beyond).
    max_body_bytes: int = 1 << 20
    #: Most rows in one request (413 beyond).
    max_rows: int = 10_000
    #: ``thread`` keeps the event loop free while a batch scores (native models, lookups that
    #: wait on a database); ``loop`` scores on the event loop (a ~10 µs ONNX call costs less than
    #: a thread hop); ``auto`` picks ``loop`` for a compiled runtime without lookups.
    score_in: ScoreIn = "auto"
    #: Seconds between self-probes (0: no periodic probe; the warm-up probe still runs).
    probe_interval_s: float = 10.0
    #: Seconds a readiness answer about the lookups is reused before asking them again.
    readiness_ttl_s: float = 2.0
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        _at_least("max_batch_size", self.max_batch_size, 1)
        _at_least("queue_size", self.queue_size, 1)
        _at_least("max_body_bytes", self.max_body_bytes, 64)
        _at_least("max_rows", self.max_rows, 1)
        _at_least("retry_after_s", self.retry_after_s, 1)
        for name in ("max_wait_ms", "probe_interval_s", "readiness_ttl_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
                raise InvalidInputError(f"serve option {name} must be a number >= 0, got {value!r}")
        if self.score_in not in ("auto", "thread", "loop"):
            raise InvalidInputError(
                f"serve option score_in must be auto, thread or loop, got {self.score_in!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _at_least(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"serve option {name} must be a whole number >= {minimum}, got {value!r}")
