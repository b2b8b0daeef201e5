"""Degraded mode at scoring time, and the automatic rule that enters it.

``DegradedMode`` is a scorer stage (input phase, first): it reads the deployment's state from a
provider (the registry, re-read at most every ``refresh_s`` seconds) and, while degraded,
notes ``batch.notes["degraded"] = {"degraded": true, "mode", "reason", "since"}`` (the HTTP
server puts it in every response) and, for ``fallback``, hands every row to the fallback, for
``refuse``, rejects every row with the reason.

``DegradationRule`` is pure: fed with scored batches, it says when the share of recent rows
flagged by one guard is above a limit (e.g. more than 20% of the last 500 rows out of domain);
``degrade_when`` then enters degraded mode through the registry, audited.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slipway.core.degradation import Degradation, DegradedModeName, check_mode
from slipway.core.errors import InvalidInputError, SlipwayError
from slipway.core.flags import Action, Flag
from slipway.scoring.batch import Batch
from slipway.scoring.result import ScoredBatch
from slipway.scoring.row_flags import RowFlags
from slipway.scoring.scorer import Phase

if TYPE_CHECKING:
    from slipway.registry.service import Registry

GUARD = "degraded"
StateProvider = Callable[[], Degradation | None]


class DegradedMode:
    """Input stage applying the deployment's degraded state to every row (see the module doc)."""

    name = GUARD
    phase: Phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, state: StateProvider, *, refresh_s: float = 1.0) -> None:
        self._provider = state
        self.refresh_s = refresh_s
        self._cached: Degradation | None = None
        self._read_at = -float("inf")

    @classmethod
    def from_registry(cls, registry: Registry, name: str, *, refresh_s: float = 1.0) -> DegradedMode:
        return cls(lambda: registry.degradation(name), refresh_s=refresh_s)

    def state(self) -> Degradation | None:
        now = time.monotonic()
        if now - self._read_at >= self.refresh_s:
            self._cached, self._read_at = self._provider(), now
        return self._cached

    def passes_clean_rows(self) -> bool:
        return self.state() is None

    def apply(self, batch: Batch) -> None:
        current = self.state()
        if current is None:
            return
        batch.notes[GUARD] = current.to_response()
        if current.mode == "warn":
            return
        action: Action = "fallback" if current.mode == "fallback" else "reject"
        flag = Flag(
            GUARD,
            current.mode,
            f"degraded mode ({current.mode}): {current.reason}",
            action=action,
            detail={"since": current.since},
        )
        for row in range(batch.n_rows):
            batch.flag(row, flag)


@dataclass
class DegradationRule:
    """Fires when more than ``share`` of the last ``window`` rows were flagged by ``guard``.

    Pure: it keeps the recent rows' outcomes, nothing else. It fires only once ``window`` rows
    were seen, so a few early bad rows do not degrade a deployment.
    """

    guard: str = "domain"
    share: float = 0.2
    window: int = 500
    mode: DegradedModeName = "warn"
    _recent: deque[bool] = field(init=False, repr=False)
    _flagged: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.share < 1:
            raise InvalidInputError(f"degradation rule: share must be in [0, 1), got {self.share}")
        if self.window < 1:
            raise InvalidInputError(f"degradation rule: window must be at least 1 row, got {self.window}")
        check_mode(self.mode)
        self._recent = deque(maxlen=self.window)

    def observe(self, scored: ScoredBatch) -> bool:
        """Record the batch's rows; True when the rule fires."""
        return self.observe_flags(scored.flags)

    def observe_flags(self, rows: RowFlags) -> bool:
        """Record rows given by their flags; True when the rule fires."""
        hits = rows.mask(lambda flag: flag.guard == self.guard)
        for hit in hits[-self.window :].tolist():
            if len(self._recent) == self.window:
                self._flagged -= self._recent[0]
            self._recent.append(hit)
            self._flagged += hit
        return self.firing

    @property
    def observed_share(self) -> float:
        return self._flagged / len(self._recent) if self._recent else 0.0

    @property
    def firing(self) -> bool:
        return len(self._recent) == self.window and self.observed_share > self.share

    def describe(self) -> dict[str, Any]:
        return {
            "guard": self.guard,
            "share": self.share,
            "window": self.window,
            "observed_share": round(self.observed_share, 4),
        }

    def reason(self) -> str:
        return (
            f"{self.observed_share:.0%} of the last {self.window} rows were flagged by the {self.guard} "
            f"guard (limit {self.share:.0%})"
        )


def degrade_when(
    rule: DegradationRule, scored: ScoredBatch, *, registry: Registry, name: str
) -> Degradation | None:
    """Feed ``scored`` to ``rule``; when it fires and ``name`` is not degraded yet, enter degraded mode."""
    if not rule.observe(scored):
        return None
    return _enter(rule, registry=registry, name=name)


def _enter(rule: DegradationRule, *, registry: Registry, name: str) -> Degradation | None:
    """Enter the degraded mode ``rule`` fired for, unless ``name`` is degraded already."""
    if registry.degradation(name) is not None:
        return None
    return registry.degrade(name, rule.mode, reason=rule.reason(), rule=rule.describe())


def parse_rule(text: str) -> DegradationRule:
    """A rule from its command-line form ``GUARD:SHARE:WINDOW[:MODE]``, e.g. ``domain:0.2:500:warn``."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise InvalidInputError(
            f"degradation rule {text!r}: expected GUARD:SHARE:WINDOW[:MODE], e.g. domain:0.2:500:warn"
        )
    guard, share, window = parts[:3]
    try:
        share_value, window_value = float(share), int(window)
    except ValueError:
        raise InvalidInputError(
            f"degradation rule {text!r}: SHARE must be a number in [0, 1) and WINDOW a whole number of rows"
        ) from None
    if not guard:
        raise InvalidInputError(f"degradation rule {text!r}: name the guard whose flags count (e.g. domain)")
    mode = check_mode(parts[3]) if len(parts) == 4 else "warn"
    return DegradationRule(guard=guard, share=share_value, window=window_value, mode=mode)


class DegradationWatch:
    """Output stage feeding every scored batch to a ``DegradationRule``; when it fires, the
    deployment enters degraded mode through the registry (audited), once.

    Each worker process watches its own rows; the first to fire enters the mode, the others find
    it entered. Once it fired, the registry is not asked again for ``recheck_s`` seconds, so a
    firing rule costs nothing per batch.
    """

    name = "degradation_watch"
    phase: Phase = "output"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(
        self, rule: DegradationRule, *, registry: Registry, deployment: str, recheck_s: float = 30.0
    ) -> None:
        self.rule = rule
        self.registry = registry
        self.deployment = deployment
        self.recheck_s = recheck_s
        self._checked_at = -float("inf")

    def apply(self, batch: Batch) -> None:
        if not self.rule.observe_flags(batch.flags):
            return
        now = time.monotonic()
        if now - self._checked_at < self.recheck_s:
            return
        self._checked_at = now
        try:
            _enter(self.rule, registry=self.registry, name=self.deployment)
        except SlipwayError:  # another worker entered it first: the state is what matters
            return
