"""Load an artifact: verify every file, check the environment, rebuild the model runner."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from slipway.artifacts.deferred import DeferredRunner
from slipway.artifacts.environment import check_environment
from slipway.artifacts.flavors.registry import get_flavor
from slipway.artifacts.packing import unpack_artifact
from slipway.artifacts.verify import hash_file, verify_artifact
from slipway.core.errors import IntegrityError, UntrustedContentError
from slipway.core.manifest import Manifest
from slipway.core.model import ModelRunner, TrustOptions
from slipway.core.profile import DataProfile


@dataclass(frozen=True)
class LoadedArtifact:
    """A verified artifact with its model rebuilt: what the gate, the server and batch engines use."""

    path: Path
    manifest: Manifest
    runner: ModelRunner

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def task(self) -> str:
        return self.manifest.model.task

    @property
    def features(self) -> tuple[str, ...]:
        return self.manifest.model.features

    @property
    def target(self) -> str | None:
        return self.manifest.model.target

    @property
    def classes(self) -> tuple[Any, ...] | None:
        return self.manifest.model.classes

    def read_json(self, relative: str) -> Any:
        """A JSON file of the artifact, only if the manifest lists it (it was verified at load)."""
        self.manifest.file(relative)
        return json.loads((self.path / relative).read_text(encoding="utf-8"))

    @cached_property
    def profile(self) -> DataProfile | None:
        if not self.manifest.has_file("profile/profile.json"):
            return None
        return DataProfile.model_validate(self.read_json("profile/profile.json"))

    @cached_property
    def params(self) -> dict[str, Any]:
        return dict(self.read_json("params.json"))

    @cached_property
    def environment(self) -> dict[str, Any]:
        return dict(self.read_json("environment/environment.json"))

    @property
    def tests_dir(self) -> Path | None:
        has_tests = any(entry.path.startswith("tests/") for entry in self.manifest.files)
        return self.path / "tests" if has_tests else None


def load_artifact(
    source: Path,
    *,
    expected_digest: str | None = None,
    trust: TrustOptions | None = None,
    unpack_dir: Path | None = None,
    defer_model: bool = False,
) -> LoadedArtifact:
    """Verify and load the artifact folder (or ``.tar.gz``) at ``source``.

    Every file is hashed against the manifest before anything is deserialised; pickle models
    are refused unless ``trust.pickle`` is set, whatever the manifest says. ``defer_model``
    deserialises the model only when it is first used (``DeferredRunner``), after hashing its
    files again: batch workers that score with the compiled runtime never pay for it.
    """
    trust = trust or TrustOptions()
    source = Path(source)
    if source.is_file() and source.name.endswith((".tar.gz", ".tgz")):
        parent = unpack_dir or Path(tempfile.mkdtemp(prefix="slipway-artifact-"))
        parent.mkdir(parents=True, exist_ok=True)
        target = parent / source.name.removesuffix(".tar.gz").removesuffix(".tgz")
        if not target.exists():
            unpack_artifact(source, target)
        source = target
    manifest = verify_artifact(source, expected_digest=expected_digest)
    if manifest.model.trusted_pickle and not trust.pickle:
        raise UntrustedContentError(
            f"artifact {manifest.name} ({manifest.digest[:12]}) holds a pickle model: loading it can run "
            "arbitrary code. Pass trust_pickle=True (CLI: --trust-pickle) only if you trust its origin"
        )
    if manifest.has_file("environment/environment.json"):
        recorded = json.loads((source / "environment/environment.json").read_text(encoding="utf-8"))
        check_environment(recorded, source=f"artifact {manifest.name} ({manifest.digest[:12]})")
    if defer_model:
        load = partial(_load_runner, source, manifest, trust, check_files=True)
        return LoadedArtifact(source, manifest, DeferredRunner(load, classes=manifest.model.classes))
    return LoadedArtifact(path=source, manifest=manifest, runner=_load_runner(source, manifest, trust))


def _load_runner(
    source: Path, manifest: Manifest, trust: TrustOptions, *, check_files: bool = False
) -> ModelRunner:
    if check_files:  # a deferred load: the model files must still be those the manifest lists
        for entry in manifest.files:
            if entry.path.startswith(("model/", "code/")) and hash_file(source / entry.path) != entry.sha256:
                raise IntegrityError(
                    f"artifact file {entry.path!r} was modified after the artifact was loaded: its sha256 "
                    "does not match the manifest; fetch the artifact again from the registry"
                )
    flavor = get_flavor(manifest.model.flavor)
    try:
        return flavor.load(source, manifest.model, trust)
    except (OSError, ValueError, KeyError) as exc:
        raise IntegrityError(
            f"cannot rebuild the {flavor.name} model of artifact {manifest.name}: {exc}"
        ) from exc
