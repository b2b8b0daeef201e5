"""Guarded builds of the two examples, shared by the guard tests (building is deterministic)."""

from __future__ import annotations

from typing import Any

import pytest

from slipway.artifacts.loader import LoadedArtifact
from support.examples import ExampleData
from support.guarded import apartments_spec, build_guarded, credit_spec


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
