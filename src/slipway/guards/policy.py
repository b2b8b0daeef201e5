"""What a guard's policy does to a row: the ``Flag.action`` it records.

``flag`` scores and annotates; ``reject`` keeps the row from the model (``Batch.flag`` marks it
rejected); ``clip`` is carried out by the guard itself (it changes the value) and recorded;
``fallback`` is carried out after prediction by ``FallbackStage``, for every row that holds a
fallback flag.
"""

from __future__ import annotations

from slipway.core.flags import Action
from slipway.guards.config import Policy


def row_action(policy: Policy, *, clip_as: Action = "clip") -> Action:
    """The action recorded on a row; ``clip_as`` for a check where clipping has no meaning."""
    if policy == "clip":
        return clip_as
    return policy
