"""Fixtures of the gate's tests: the example plans made fast, artifacts built with them, defects."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.examples import apartments, credit
from slipway.examples.plans import write_tests
from slipway.validation.gate import GateOptions, run_gate
from slipway.validation.plan_files import load_plan
from slipway.validation.results import GateReport
from support.gate import ZOO

# The example plans as shipped, with fewer rows, calls and resamples so a gate takes seconds.
FAST = {
    "latency": {"warmup": 2, "calls": 20, "max_seconds": 2.0, "batch_size": 200, "batch_repeats": 1},
    "bootstrap": {"resamples": 40},
    "explanations": {"rows": 150, "repeats": 2},
}
DERIVED_ROWS = 100


def make_fast(folder: Path) -> Path:
    plan_path = folder / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan.update(FAST)
    for name, spec in plan["scenarios"].items():
        if name not in ("base_case", "production"):
            spec = spec or {}
            spec["rows"] = min(spec.get("rows", DERIVED_ROWS), DERIVED_ROWS)
            plan["scenarios"][name] = spec
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return folder


@pytest.fixture(scope="session")
def credit_tests(tmp_path_factory: pytest.TempPathFactory, credit_data: Any) -> Path:
    return make_fast(
        write_tests("credit", tmp_path_factory.mktemp("tests") / "credit", base_case=credit_data.holdout)
    )


@pytest.fixture(scope="session")
def apartments_tests(tmp_path_factory: pytest.TempPathFactory, apartments_data: Any) -> Path:
    folder = tmp_path_factory.mktemp("tests") / "apartments"
    return make_fast(write_tests("apartments", folder, base_case=apartments_data.holdout))


@pytest.fixture(scope="session")
def zoo() -> Any:
    """The defect classes, imported as module ``zoo_models`` (the name the artifact's code/ has)."""
    if "zoo_models" not in sys.modules:
        spec = importlib.util.spec_from_file_location("zoo_models", ZOO)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["zoo_models"] = module
        spec.loader.exec_module(module)
    return sys.modules["zoo_models"]


@pytest.fixture(scope="session")
def build_example(
    tmp_path_factory: pytest.TempPathFactory,
    apartments_data: Any,
    credit_data: Any,
    apartments_tests: Path,
    credit_tests: Path,
) -> Callable[..., LoadedArtifact]:
    """Build and load an artifact of an example with its fast plan: ``build_example("credit", model)``."""
    counter = iter(range(1_000_000))

    def build(example: str, model: Any, **spec: Any) -> LoadedArtifact:
        output = tmp_path_factory.mktemp("built") / f"{example}-{next(counter)}"
        if example == "credit":
            settings = {
                "train": credit_data.train,
                "target": credit.TARGET,
                "exclude": [credit.SENSITIVE],
                "tests": credit_tests,
                **spec,
            }
        else:
            settings = {
                "train": apartments_data.train,
                "target": apartments.TARGET,
                "features": apartments.FEATURES,
                "tests": apartments_tests,
                **spec,
            }
        if "code" in settings:
            settings["flavor"] = "python"
        built: BuiltArtifact = build_artifact(model, BuildSpec(name=example, **settings), output=output)
        return load_artifact(built.path)

    return build


@pytest.fixture(scope="session")
def gate() -> Callable[..., GateReport]:
    """Run the gate with the artifact's own plan: ``gate(artifact, champion=None, runtimes=())``."""

    def run(artifact: LoadedArtifact, **options: Any) -> GateReport:
        assert artifact.tests_dir is not None
        return run_gate(artifact, load_plan(artifact.tests_dir), GateOptions(**options))

    return run


@pytest.fixture(scope="session")
def healthy_credit(build_example: Callable[..., LoadedArtifact], credit_model: Any) -> LoadedArtifact:
    return build_example("credit", credit_model)


@pytest.fixture(scope="session")
def healthy_apartments(build_example: Callable[..., LoadedArtifact], apartments_model: Any) -> LoadedArtifact:
    return build_example("apartments", apartments_model)


@pytest.fixture(scope="session")
def credit_report(gate: Callable[..., GateReport], healthy_credit: LoadedArtifact) -> GateReport:
    return gate(healthy_credit)


@pytest.fixture(scope="session")
def apartments_report(gate: Callable[..., GateReport], healthy_apartments: LoadedArtifact) -> GateReport:
    return gate(healthy_apartments)
