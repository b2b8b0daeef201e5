"""The model card (``docs/MODEL_CARD.md``): what the model is for, who owns it, where it fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.core.errors import InvalidInputError, NotFoundError

RISK_LEVELS = ("low", "medium", "high")
FIELDS = ("purpose", "owner", "intended_use", "limitations", "risk_level")
_UNFILLED = "_Not yet written: the model owner fills this in before release._"


def render_model_card(
    card: Mapping[str, Any] | str | Path | None,
    *,
    name: str,
    task: str,
    flavor: str,
    features: Sequence[str],
    target: str | None,
) -> str:
    """The card's Markdown: the user's own file as is, or a filled (or to-be-filled) template."""
    if isinstance(card, str | Path):
        path = Path(card)
        if not path.is_file():
            raise NotFoundError(f"model card file {str(path)!r} does not exist")
        return path.read_text(encoding="utf-8")
    values = dict(card or {})
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInputError(f"unknown model card field {unknown[0]!r}; fields: {', '.join(FIELDS)}")
    risk = values.get("risk_level")
    if risk is not None and risk not in RISK_LEVELS:
        raise InvalidInputError(f"invalid risk_level {risk!r}; use one of {', '.join(RISK_LEVELS)}")

    def field(key: str) -> str:
        return str(values.get(key) or _UNFILLED)

    return f"""# Model card: {name}

## Purpose
{field("purpose")}

## Owner
{field("owner")}

## Intended use
{field("intended_use")}

## Limitations
{field("limitations")}

## Risk level
{field("risk_level")}

## Model details
- Task: {task}
- Flavor: {flavor}
- Target: {target or "(none recorded)"}
- Features ({len(features)}): {", ".join(features)}
"""
