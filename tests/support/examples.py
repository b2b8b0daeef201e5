"""Fixtures with the two example projects: their data, trained models and built artifacts.

Artifacts are built once per test session (building is deterministic, so sharing is safe) in a
temporary folder; tests that change an artifact copy it first (``copy_artifact``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from slipway.api import Slipway
from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.core.settings import Settings
from slipway.examples import apartments, credit


@dataclass(frozen=True)
class ExampleData:
    train: pd.DataFrame
    validation: pd.DataFrame
    holdout: pd.DataFrame
    extra: dict[str, Any]


@pytest.fixture(scope="session")
def apartments_data() -> ExampleData:
    prices = apartments.zip_prices()
    train, validation, holdout = apartments.split(apartments.enrich(apartments.generate(), prices))
    return ExampleData(train, validation, holdout, {"zip_prices": prices})


@pytest.fixture(scope="session")
def credit_data() -> ExampleData:
    train, validation, holdout = credit.split(credit.generate())
    return ExampleData(train, validation, holdout, {})


@pytest.fixture(scope="session")
def apartments_model(apartments_data: ExampleData) -> Any:
    return apartments.train(apartments_data.train, max_iter=60)


@pytest.fixture(scope="session")
def credit_model(credit_data: ExampleData) -> Any:
    return credit.train(credit_data.train, max_iter=60)


@pytest.fixture(scope="session")
def apartments_artifact(
    tmp_path_factory: pytest.TempPathFactory, apartments_model: Any, apartments_data: ExampleData
) -> BuiltArtifact:
    spec = BuildSpec(
        name=apartments.NAME,
        train=apartments_data.train,
        validation=apartments_data.validation,
        target=apartments.TARGET,
        features=apartments.FEATURES,
        model_card=apartments.MODEL_CARD,
    )
    return build_artifact(apartments_model, spec, output=tmp_path_factory.mktemp("artifacts") / "apartments")


@pytest.fixture(scope="session")
def credit_artifact(
    tmp_path_factory: pytest.TempPathFactory, credit_model: Any, credit_data: ExampleData
) -> BuiltArtifact:
    spec = BuildSpec(
        name=credit.NAME,
        train=credit_data.train,
        validation=credit_data.validation,
        target=credit.TARGET,
        exclude=[credit.SENSITIVE],
        model_card=credit.MODEL_CARD,
    )
    return build_artifact(credit_model, spec, output=tmp_path_factory.mktemp("artifacts") / "credit")


@pytest.fixture
def copy_artifact(tmp_path: Path) -> Callable[[BuiltArtifact | Path], Path]:
    """Copy a built artifact folder somewhere a test may change it."""

    def copy(artifact: BuiltArtifact | Path) -> Path:
        source = artifact.path if isinstance(artifact, BuiltArtifact) else artifact
        target = tmp_path / f"copy-{source.name}"
        shutil.copytree(source, target)
        return target

    return copy


@pytest.fixture
def slipway_home(tmp_path: Path) -> Iterator[Slipway]:
    """A Slipway on an empty home folder: SQLite registry, local artifact store."""
    sw = Slipway(Settings.from_env({}, home=tmp_path / "home", actor="tester@test"))
    yield sw
    sw.close()
