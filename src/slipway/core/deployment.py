"""Deployment records as the registry keeps them: the deployment, its stats windows, exposures and outcomes.

A deployment is a named endpoint with a ``stable`` slot, an optional ``candidate`` slot and a
traffic policy (plain JSON here; ``slipway.rollout.policy`` gives it types and rules). Every
update bumps ``generation``, and stores write only when the generation they read is still the
current one, so two workers or replicas never overwrite each other's change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

STABLE = "stable"
CANDIDATE = "candidate"
SLOT_NAMES = (STABLE, CANDIDATE)


class DeploymentState(StrEnum):
    STABLE = "stable"  # only the stable slot serves; no rollout runs
    ROLLING = "rolling"  # a canary step, an A/B test or a shadow runs
    AWAITING_APPROVAL = "awaiting_approval"  # a canary waits for a person before its last step
    SWITCHED = "switched"  # blue-green: the candidate serves; the old stable stays loaded for rollback


@dataclass(frozen=True, slots=True)
class SlotRecord:
    """One slot: a registered version (by digest, so what runs is what was resolved) and its options."""

    model: str
    version: int
    digest: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.model}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlotRecord:
        return cls(
            model=str(data["model"]),
            version=int(data["version"]),
            digest=str(data["digest"]),
            options=dict(data.get("options") or {}),
        )


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    name: str
    stable: SlotRecord
    policy: dict[str, Any]
    state: DeploymentState
    created_at: str
    updated_at: str
    candidate: SlotRecord | None = None
    step: int = 0
    step_started_at: str | None = None
    generation: int = 1

    def slot(self, name: str) -> SlotRecord | None:
        return self.stable if name == STABLE else self.candidate if name == CANDIDATE else None

    def slots(self) -> dict[str, SlotRecord]:
        found = {STABLE: self.stable}
        if self.candidate is not None:
            found[CANDIDATE] = self.candidate
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": str(self.state),
            "slots": {name: slot.to_dict() for name, slot in self.slots().items()},
            "policy": self.policy,
            "step": self.step,
            "step_started_at": self.step_started_at,
            "generation": self.generation,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class StatsWindow:
    """What one worker saw of one slot between ``window_start`` and ``window_end``.

    Windows from every worker and replica are summed by the analysis. ``latency_counts`` are
    counts per bucket of ``slipway.rollout.sketch.LATENCY_BOUNDS_MS``; ``predictions`` a
    uniform sample of the slot's predictions; ``extra`` holds shadow comparisons.
    """

    deployment: str
    slot: str
    version: int
    worker: str
    window_start: str
    window_end: str
    requests: int = 0
    errors: int = 0
    flagged: int = 0
    latency_counts: list[int] = field(default_factory=list)
    predictions: list[float] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ExposureRecord:
    """Which slot and version answered one request (and for which user)."""

    request_id: str
    deployment: str
    slot: str
    version: int
    at: str
    user_key: str | None = None
    prediction: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """Feedback posted for a request (or for a user): the observed outcome as a number."""

    deployment: str
    value: float
    at: str
    request_id: str | None = None
    user_key: str | None = None
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
