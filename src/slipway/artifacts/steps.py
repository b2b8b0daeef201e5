"""Build steps: what later stages add to an artifact while it is built.

The core build writes the model, code, params, data references, environment, model card, tests
and profile. Other capabilities (runtime guards, compiled runtimes) contribute a ``BuildStep``:
it writes files under ``context.root`` and returns a JSON-able section recorded in the manifest
under its name. Steps run after the core content exists, in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from slipway.core.model import ModelRunner
    from slipway.core.profile import DataProfile


@dataclass
class BuildContext:
    root: Path
    name: str
    model: Any
    runner: ModelRunner
    task: str
    features: tuple[str, ...]
    target: str | None
    classes: tuple[Any, ...] | None
    train: pd.DataFrame | None
    validation: pd.DataFrame | None
    profile: DataProfile | None
    #: Sections written by steps that ran before this one.
    sections: dict[str, Any] = field(default_factory=dict)


class BuildStep(Protocol):
    name: str

    def run(self, context: BuildContext) -> dict[str, Any] | None: ...
