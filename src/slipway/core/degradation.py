"""Degraded mode of a named deployment: an endpoint-wide state entered by hand or by a rule.

- ``warn``: rows are scored as usual; every response says it is degraded, and why;
- ``fallback``: the artifact's fallback model or rule answers every row;
- ``refuse``: every row is rejected with the reason.

A deployment is named by a string; the HTTP server uses the model's name when it serves no
named deployment. The registry keeps the present state (one row per degraded deployment);
entering and leaving are audit events (``deployment.degraded`` / ``deployment.restored``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from slipway.core.errors import InvalidInputError

DegradedModeName = Literal["warn", "fallback", "refuse"]
MODES: tuple[DegradedModeName, ...] = ("warn", "fallback", "refuse")
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Degradation:
    name: str
    mode: DegradedModeName
    reason: str
    since: str
    actor: str
    #: The automatic rule that entered it (its settings and the observed share), or None by hand.
    rule: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_response(self) -> dict[str, Any]:
        """What every scoring response carries while degraded."""
        return {"degraded": True, "mode": self.mode, "reason": self.reason, "since": self.since}


def check_mode(mode: str) -> DegradedModeName:
    for known in MODES:
        if mode == known:
            return known
    raise InvalidInputError(f"unknown degraded mode {mode!r}; use one of: {', '.join(MODES)}")


def check_reason(reason: str) -> str:
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidInputError(
            f'degraded mode needs a reason of 1-{MAX_REASON} characters (--reason "..."): '
            "every response repeats it, and the audit trail records it"
        )
    return text
