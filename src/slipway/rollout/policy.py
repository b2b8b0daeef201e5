"""Traffic policies: what a deployment's JSON policy may say, checked once, here.

A policy names a strategy and its parameters. ``candidate_percent`` turns a deployment's state
and step into the share of traffic its candidate gets, which is all routing needs.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from slipway.core.deployment import DeploymentRecord, DeploymentState
from slipway.core.errors import InvalidInputError


class Strategy(StrEnum):
    SINGLE = "single"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"
    AB = "ab"
    SHADOW = "shadow"


DEFAULT_STEPS = (5.0, 25.0, 50.0, 100.0)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the canary analysis rolls back (see ``slipway.rollout.analysis``)."""

    alpha: float = 0.01  # one-sided significance for "candidate is worse"
    max_error_increase: float = 0.02  # error rate, absolute (2 points)
    max_flag_increase: float = 0.05  # guard flag rate, absolute
    latency_p95_ratio: float = 2.0
    latency_margin_ms: float = 2.0  # p95 differences below this are noise on any machine
    max_psi: float = 0.25
    ks_alpha: float = 0.001
    metric_ratio: float = 1.2  # candidate's mean outcome error over stable's
    min_samples: int = 30  # per slot, before the prediction and metric checks speak
    # Tail latency needs more: a p95 of 30 requests is their second slowest, which one GC pause
    # or a cold cache makes. 100 keeps a fresh slot's first slow calls from rolling it back.
    min_latency_samples: int = 100

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Thresholds:
        data = dict(data or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown canary threshold(s) {', '.join(unknown)}; use: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {key: _positive(f"threshold {key}", value) for key, value in data.items()}
        for key in ("min_samples", "min_latency_samples"):
            if key in values:
                values[key] = int(values[key])
        if not 0 < values.get("alpha", 0.01) < 1 or not 0 < values.get("ks_alpha", 0.001) < 1:
            raise InvalidInputError("thresholds alpha and ks_alpha must be between 0 and 1 (e.g. 0.01)")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Policy:
    strategy: Strategy
    salt: str
    steps: tuple[float, ...] = ()
    min_requests: int = 200
    min_seconds: float = 60.0
    approval: bool = False
    split: float = 50.0
    shadow_percent: float = 100.0
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["strategy"] = str(self.strategy)
        data["steps"] = list(self.steps)
        return data

    @property
    def last_analyzed_step(self) -> int:
        """Index of the last step that is analyzed; passing it completes the rollout at 100%."""
        return len(self.steps) - 2


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Build and check a policy from its JSON form (as stored or as given by a user)."""
    strategy = parse_strategy(data.get("strategy", "single"))
    salt = str(data.get("salt") or secrets.token_hex(8))
    steps = check_steps(data.get("steps", DEFAULT_STEPS)) if strategy is Strategy.CANARY else ()
    split = _percent("A/B split", data.get("split", 50.0))
    if strategy is Strategy.AB and not 0 < split < 100:
        raise InvalidInputError(f"A/B split {split:g} leaves one side without traffic; use 1-99 (percent)")
    return Policy(
        strategy=strategy,
        salt=salt,
        steps=steps,
        min_requests=int(_positive("min_requests", data.get("min_requests", 200), allow_zero=True)),
        min_seconds=_positive("min_seconds", data.get("min_seconds", 60.0), allow_zero=True),
        approval=_flag("approval", data.get("approval", False)),
        split=split,
        shadow_percent=_percent("shadow share", data.get("shadow_percent", 100.0)),
        thresholds=Thresholds.from_dict(data.get("thresholds")),
    )


def parse_strategy(value: object) -> Strategy:
    text = str(value).strip().lower().replace("-", "_")
    try:
        return Strategy(text)
    except ValueError:
        choices = ", ".join(s.value.replace("_", "-") for s in Strategy)
        raise InvalidInputError(f"unknown strategy {value!r}; use one of: {choices}") from None


def check_steps(steps: object) -> tuple[float, ...]:
    """Canary steps: increasing percentages in (0, 100], ending at 100, at least two of them."""
    if isinstance(steps, str):
        steps = [part for part in steps.split(",") if part.strip()]
    if not isinstance(steps, Sequence) or len(steps) < 2:
        raise InvalidInputError(f"canary steps {steps!r}: give at least two percentages, e.g. 5,25,50,100")
    values = tuple(_percent("canary step", step) for step in steps)
    for before, after in itertools.pairwise(values):
        if after <= before:
            raise InvalidInputError(
                f"canary steps {','.join(f'{v:g}' for v in values)} are not increasing "
                f"({after:g} after {before:g}); list them in increasing order, e.g. 5,25,50,100"
            )
    if values[0] <= 0 or values[-1] != 100:
        raise InvalidInputError(
            f"canary steps {','.join(f'{v:g}' for v in values)}: start above 0 and end at 100"
        )
    return values


def candidate_percent(record: DeploymentRecord, policy: Policy) -> float:
    """The share of traffic (0-100) the candidate answers in the deployment's current state."""
    if record.candidate is None or record.state is DeploymentState.STABLE:
        return 0.0
    if record.state is DeploymentState.SWITCHED:
        return 100.0
    if policy.strategy is Strategy.CANARY:
        return policy.steps[min(record.step, len(policy.steps) - 1)]
    if policy.strategy is Strategy.AB:
        return policy.split
    return 0.0  # shadow mirrors, blue-green warms up before its switch


def mirror_percent(record: DeploymentRecord, policy: Policy) -> float:
    """The share of requests copied to the candidate off the request path (shadow only)."""
    running = record.candidate is not None and record.state is DeploymentState.ROLLING
    return policy.shadow_percent if running and policy.strategy is Strategy.SHADOW else 0.0


def _percent(what: str, value: object) -> float:
    number = _number(what, value)
    if not 0 <= number <= 100:
        raise InvalidInputError(f"{what} {number:g} is outside 0-100; give a percentage, e.g. 25")
    return number


def _positive(what: str, value: object, *, allow_zero: bool = False) -> float:
    number = _number(what, value)
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidInputError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {number:g}")
    return number


def _number(what: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} {value!r} is not a number") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidInputError(f"{what} {value!r} is not a finite number")
    return number


def _flag(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be true or false, got {value!r}")
    return value
