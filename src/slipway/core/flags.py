"""The per-row annotations a scoring path attaches: a stable, documented structure.

Every scored row carries a list of flags. A flag says which check fired (``guard``), a short
machine-readable ``code``, a human ``message``, and what was done about it (``action``):

- ``flag``: the row was scored and annotated;
- ``reject``: the row was not scored; the message is the reason;
- ``clip``: a value was clipped into range and the row scored;
- ``fallback``: the prediction comes from the artifact's fallback model or rule.

``feature``, ``value`` and ``detail`` add the specifics (the offending value, the interval).
The JSON form is ``Flag.to_dict()``; it is identical in the Python API, HTTP responses and
batch outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["flag", "reject", "clip", "fallback"]
ACTIONS: tuple[Action, ...] = ("flag", "reject", "clip", "fallback")


@dataclass(frozen=True, slots=True)
class Flag:
    guard: str
    code: str
    message: str
    action: Action = "flag"
    feature: str | None = None
    value: Any = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "guard": self.guard,
            "code": self.code,
            "message": self.message,
            "action": self.action,
            "feature": self.feature,
            "value": self.value,
            "detail": self.detail,
        }
