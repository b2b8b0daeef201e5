"""The endpoint-wide degraded state every response reports (``degraded``, ``degraded_reason``).

The server asks a ``DegradedProvider`` on each response; the default one never degrades. A
provider backed by the registry or a monitor rule can replace it without touching the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DegradedState:
    degraded: bool = False
    reason: str | None = None


NOT_DEGRADED = DegradedState()


class DegradedProvider(Protocol):
    def current(self) -> DegradedState: ...


class StaticDegradedProvider:
    """A fixed state, changed by hand (``set``): the default is not degraded."""

    def __init__(self, state: DegradedState = NOT_DEGRADED) -> None:
        self.state = state

    def current(self) -> DegradedState:
        return self.state

    def set(self, *, degraded: bool, reason: str | None = None) -> None:
        self.state = DegradedState(degraded, reason if degraded else None)
