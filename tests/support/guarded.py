"""Building guarded artifacts of the two examples (used by the guard tests and the flag paths)."""

from __future__ import annotations

from typing import Any

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.examples import apartments, credit
from slipway.guards.step import GuardsStep
from support.examples import ExampleData


def build_guarded(model: Any, spec: BuildSpec, folder: Any, guards: Any = None) -> LoadedArtifact:
    built = build_artifact(model, spec, output=folder, steps=[GuardsStep(guards)])
    return load_artifact(built.path)


def apartments_spec(data: ExampleData, **changes: Any) -> BuildSpec:
    settings: dict[str, Any] = {
        "name": apartments.NAME,
        "train": data.train,
        "validation": data.validation,
        "target": apartments.TARGET,
        "features": apartments.FEATURES,
        **changes,
    }
    return BuildSpec(**settings)


def credit_spec(data: ExampleData, **changes: Any) -> BuildSpec:
    settings: dict[str, Any] = {
        "name": credit.NAME,
        "train": data.train,
        "validation": data.validation,
        "target": credit.TARGET,
        "exclude": [credit.SENSITIVE],
        **changes,
    }
    return BuildSpec(**settings)
