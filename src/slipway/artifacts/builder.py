"""Build an immutable, content-addressed artifact from a trained model and what it needs.

Everything is written into a staging folder next to the destination and moved into place only
when the manifest is complete, so a failed build leaves nothing half-written behind. Every
file is written deterministically, so building twice from the same inputs gives the same digest.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from slipway._version import __version__
from slipway.artifacts.datasets import DataSource, describe_dataset, read_table
from slipway.artifacts.environment import capture_environment, to_lock_file
from slipway.artifacts.flavors.base import Flavor
from slipway.artifacts.flavors.pickle import REFUSED as PICKLE_REFUSED
from slipway.artifacts.flavors.registry import detect_flavor, get_flavor
from slipway.artifacts.modelcard import render_model_card
from slipway.artifacts.profiling import profile_data
from slipway.artifacts.steps import BuildContext, BuildStep
from slipway.artifacts.verify import hash_file, list_files, read_manifest
from slipway.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SlipwayError,
    UntrustedContentError,
)
from slipway.core.manifest import MANIFEST_NAME, FileEntry, Manifest, ModelSection, Task
from slipway.core.model import TrustOptions
from slipway.core.refs import check_name

_IGNORED_CODE = {"__pycache__", ".git", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class BuiltArtifact:
    path: Path
    manifest: Manifest

    @property
    def digest(self) -> str:
        return self.manifest.digest


@dataclass(frozen=True)
class BuildSpec:
    """Everything a build needs besides the model object. See ``slipway.build`` for the meaning."""

    name: str
    train: DataSource | None = None
    target: str | None = None
    features: Sequence[str] | None = None
    exclude: Sequence[str] = ()
    validation: DataSource | None = None
    task: str | None = None
    classes: Sequence[Any] | None = None
    flavor: str | None = None
    params: Mapping[str, Any] | None = None
    code: Sequence[str | Path] = ()
    requirements: Sequence[str] = ()
    model_card: Mapping[str, Any] | str | Path | None = None
    tests: str | Path | None = None
    embed_data: bool = False
    trust_pickle: bool = False


def build_artifact(
    model: Any,
    spec: BuildSpec,
    *,
    output: Path | None = None,
    output_dir: Path | None = None,
    steps: Sequence[BuildStep] = (),
) -> BuiltArtifact:
    """Build into ``output``, or into ``output_dir / NAME-DIGEST12`` when no output is given."""
    check_name(spec.name)
    if (output is None) == (output_dir is None):
        raise InvalidInputError("pass exactly one of output or output_dir")
    flavor = _choose_flavor(model, spec)
    train = read_table(spec.train, what="training data") if spec.train is not None else None
    validation = read_table(spec.validation, what="validation data") if spec.validation is not None else None
    features = _features(spec, train)
    parent = output.parent if output is not None else output_dir
    assert parent is not None  # one of them is set, checked above
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.building-", dir=parent))
    try:
        manifest = _write_content(model, flavor, spec, staging, train, validation, features, steps)
        final = output if output is not None else parent / f"{spec.name}-{manifest.digest[:12]}"
        return BuiltArtifact(path=_commit(staging, final, manifest), manifest=manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _choose_flavor(model: Any, spec: BuildSpec) -> Flavor:
    if spec.flavor is None:
        return detect_flavor(model, trust_pickle=spec.trust_pickle)
    flavor = get_flavor(spec.flavor)
    if flavor.name == "pickle" and not spec.trust_pickle:
        raise UntrustedContentError(PICKLE_REFUSED.format(what=f"a {type(model).__qualname__}"))
    if not flavor.accepts(model):
        raise InvalidInputError(f"flavor {spec.flavor!r} cannot save a {type(model).__qualname__}")
    return flavor


def _features(spec: BuildSpec, train: pd.DataFrame | None) -> tuple[str, ...]:
    if spec.features is not None:
        features = tuple(str(name) for name in spec.features)
    elif train is not None:
        dropped = {spec.target, *spec.exclude}
        features = tuple(str(name) for name in train.columns if name not in dropped)
    else:
        raise InvalidInputError("say which features the model takes: pass features=[...] or training data")
    if not features:
        raise InvalidInputError("the model needs at least one feature")
    if len(set(features)) != len(features):
        raise InvalidInputError("a feature is listed twice in features=[...]")
    if spec.target is not None and spec.target in features:
        raise InvalidInputError(f"the target {spec.target!r} cannot also be a feature")
    return features


def _write_content(
    model: Any,
    flavor: Flavor,
    spec: BuildSpec,
    root: Path,
    train: pd.DataFrame | None,
    validation: pd.DataFrame | None,
    features: tuple[str, ...],
    steps: Sequence[BuildStep],
) -> Manifest:
    _copy_code(spec.code, root / "code")
    saved = flavor.save(model, root)
    classes = tuple(spec.classes) if spec.classes is not None else saved.classes
    task = _task(spec.task, classes)
    section = ModelSection(
        flavor=flavor.name,
        path=saved.path,
        task=task,
        target=spec.target,
        features=features,
        classes=classes if task == "classification" else None,
        trusted_pickle=saved.trusted_pickle,
        options=saved.options,
    )
    _write_json(root / "params.json", dict(spec.params or _model_params(model)))
    datasets = {
        name: describe_dataset(name, source, frame, root=root, embed=spec.embed_data)
        for name, source, frame in (
            ("train", spec.train, train),
            ("validation", spec.validation, validation),
        )
        if source is not None and frame is not None
    }
    _write_json(root / "data.json", datasets)
    environment = capture_environment([*flavor.requirements, *spec.requirements])
    _write_json(root / "environment" / "environment.json", environment)
    (root / "environment" / "requirements.lock").write_text(to_lock_file(environment["packages"]))
    card = render_model_card(
        spec.model_card,
        name=spec.name,
        task=task,
        flavor=flavor.name,
        features=features,
        target=spec.target,
    )
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    _copy_tests(spec.tests, root / "tests")
    profile = None
    if train is not None:
        profile = profile_data(train, features=features, target=spec.target, task=task)
        _write_json(root / "profile" / "profile.json", profile.model_dump(mode="json"))
    sections = _run_steps(steps, root, model, flavor, section, spec, train, validation, profile)
    manifest = Manifest(
        name=spec.name,
        model=section,
        files=tuple(_entries(root)),
        slipway_version=__version__,
        sections=sections,
    )
    (root / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    return manifest


def _run_steps(
    steps: Sequence[BuildStep],
    root: Path,
    model: Any,
    flavor: Flavor,
    section: ModelSection,
    spec: BuildSpec,
    train: pd.DataFrame | None,
    validation: pd.DataFrame | None,
    profile: Any,
) -> dict[str, Any]:
    if not steps:
        return {}
    trust = TrustOptions(pickle=spec.trust_pickle)
    context = BuildContext(
        root=root,
        name=spec.name,
        model=model,
        runner=flavor.load(root, section, trust),
        task=section.task,
        features=section.features,
        target=section.target,
        classes=section.classes,
        train=train,
        validation=validation,
        profile=profile,
    )
    for step in steps:
        result = step.run(context)
        if result is not None:
            context.sections[step.name] = result
    return dict(context.sections)


def _task(requested: str | None, classes: tuple[Any, ...] | None) -> Task:
    task = requested or ("classification" if classes is not None else "regression")
    if task == "classification":
        return "classification"
    if task == "regression":
        return "regression"
    raise InvalidInputError(f"invalid task {task!r}; use 'classification' or 'regression'")


def _model_params(model: Any) -> dict[str, Any]:
    """Hyperparameters of estimators that expose them, reduced to JSON-safe values."""
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return {}
    params = get_params(deep=False)
    return {str(key): _json_safe(value) for key, value in sorted(params.items())}


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no NaN/Infinity (e.g. XGBoost's missing=nan)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return f"<{type(value).__qualname__}>"


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_bytes(json.dumps(value, sort_keys=True, indent=2, allow_nan=False).encode() + b"\n")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{path.name}: value is not JSON-serialisable: {exc}") from exc


def _copy_code(sources: Sequence[str | Path], destination: Path) -> None:
    for source in map(Path, sources):
        if not source.exists():
            raise NotFoundError(f"code path {str(source)!r} does not exist")
        target = destination / source.name
        if target.exists():
            raise InvalidInputError(f"two code paths are both named {source.name!r}")
        destination.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_IGNORED_CODE, "*.pyc"))
        else:
            shutil.copyfile(source, target)


def _copy_tests(source: str | Path | None, destination: Path) -> None:
    if source is None:
        return
    path = Path(source)
    if not path.is_dir():
        raise NotFoundError(f"tests folder {str(path)!r} does not exist")
    shutil.copytree(path, destination, ignore=shutil.ignore_patterns(*_IGNORED_CODE, "*.pyc"))


def _entries(root: Path) -> list[FileEntry]:
    return [
        FileEntry(path=path, sha256=hash_file(root / path), size=(root / path).stat().st_size)
        for path in list_files(root)
        if path != MANIFEST_NAME
    ]


def _commit(staging: Path, output: Path, manifest: Manifest) -> Path:
    """Move the finished artifact into place; an existing identical artifact is kept as is."""
    if output.exists():
        try:
            existing = read_manifest(output).digest
        except SlipwayError as exc:
            raise ConflictError(
                f"output folder {str(output)!r} exists and is not this artifact; "
                "remove it or choose another output"
            ) from exc
        if existing != manifest.digest:
            raise ConflictError(
                f"output folder {str(output)!r} holds a different artifact ({existing[:12]}); "
                "artifacts are immutable: choose another output folder"
            )
        return output
    staging.replace(output)
    return output
