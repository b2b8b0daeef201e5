"""Guarded artifacts of the two examples: builders and session fixtures (import the fixtures into a
conftest or test module to use them; building is deterministic, so sharing them is safe)."""

from __future__ import annotations

from typing import Any

import pytest

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


@pytest.fixture(scope="session")
def guarded_apartments(
    tmp_path_factory: pytest.TempPathFactory, apartments_model: Any, apartments_data: ExampleData
) -> LoadedArtifact:
    """Apartments with the default guards (domain, anomaly, conformal, output; policy flag)."""
    folder = tmp_path_factory.mktemp("guarded") / "apartments"
    return build_guarded(apartments_model, apartments_spec(apartments_data), folder)


@pytest.fixture(scope="session")
def guarded_credit(
    tmp_path_factory: pytest.TempPathFactory, credit_model: Any, credit_data: ExampleData
) -> LoadedArtifact:
    """Credit with the default guards plus a certainty threshold and a fallback rule."""
    folder = tmp_path_factory.mktemp("guarded") / "credit"
    guards = {"output": {"min_certainty": 0.65}, "fallback": {"rule": 0}}
    return build_guarded(credit_model, credit_spec(credit_data), folder, guards)
