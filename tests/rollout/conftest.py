from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.adapters.factory import open_artifact_store, open_metadata_store
from slipway.core.canonical import sha256_hex
from slipway.core.manifest import MANIFEST_NAME, FileEntry, Manifest, ModelSection
from slipway.registry.service import Registry
from slipway.rollout.service import Rollouts


def tiny_manifest(folder: Path, name: str, payload: bytes) -> Manifest:
    """An artifact the registry accepts (it never loads the model); payloads give distinct digests."""
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "model" / "model.bin").write_bytes(payload)
    manifest = Manifest(
        name=name,
        model=ModelSection(flavor="test", path="model/model.bin", task="regression", features=("x",)),
        files=(FileEntry(path="model/model.bin", sha256=sha256_hex(payload), size=len(payload)),),
        slipway_version="0.1.0",
    )
    (folder / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    return manifest


@pytest.fixture
def registry(metadata_url: str, tmp_path: Path) -> Iterator[Registry]:
    metadata = open_metadata_store(metadata_url)
    artifacts = open_artifact_store(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")
    registry = Registry(metadata, artifacts, actor="ops@test")
    for version in (1, 2, 3):
        folder = tmp_path / "builds" / f"v{version}"
        registry.register(tiny_manifest(folder, "apartments", f"v{version}".encode()), folder)
    yield registry
    metadata.close()


@pytest.fixture
def rollouts(registry: Registry) -> Rollouts:
    return Rollouts(registry)
