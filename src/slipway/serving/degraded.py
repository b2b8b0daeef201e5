"""The endpoint-wide degraded state every response reports (``degraded``, ``degraded_reason``).

A response takes the state its batch was scored under (the degraded-mode stage notes it in
``batch.notes["degraded"]``); health endpoints and batches without the note ask a
``DegradedProvider``: by default the scorer's degraded-mode stage (the registry's state of the
deployment), else never degraded. Any other provider can replace it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class DegradedState:
    degraded: bool = False
    reason: str | None = None
    #: ``warn``, ``fallback`` or ``refuse`` (``slipway.core.degradation``) while degraded.
    mode: str | None = None

    @classmethod
    def from_notes(cls, notes: Any) -> DegradedState | None:
        """The state a scored batch recorded (``batch.notes["degraded"]``), if any."""
        if not isinstance(notes, dict) or not notes.get("degraded"):
            return None
        return cls(True, notes.get("reason"), notes.get("mode"))


NOT_DEGRADED = DegradedState()


class DegradedProvider(Protocol):
    def current(self) -> DegradedState: ...


class StaticDegradedProvider:
    """A fixed state, changed by hand (``set``): the default is not degraded."""

    def __init__(self, state: DegradedState = NOT_DEGRADED) -> None:
        self.state = state

    def current(self) -> DegradedState:
        return self.state

    def set(self, *, degraded: bool, reason: str | None = None, mode: str | None = None) -> None:
        self.state = DegradedState(degraded, reason if degraded else None, mode if degraded else None)


class StageDegradedProvider:
    """The state of the Scorer's degraded-mode stage (``slipway.guards.degraded.DegradedMode``),
    which reads the deployment's state from the registry (cached for its ``refresh_s``)."""

    def __init__(self, stage: Any) -> None:
        self.stage = stage

    def current(self) -> DegradedState:
        state = self.stage.state()
        if state is None:
            return NOT_DEGRADED
        return DegradedState(True, state.reason, state.mode)


def provider_for(stages: Sequence[Any]) -> DegradedProvider:
    """A provider reading the scorer's degraded-mode stage when it has one, else never degraded."""
    for stage in stages:
        if getattr(stage, "name", None) == "degraded" and callable(getattr(stage, "state", None)):
            return StageDegradedProvider(stage)
    return StaticDegradedProvider()
