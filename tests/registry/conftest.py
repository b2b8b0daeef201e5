from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tiny_artifact import write_tiny_artifact

from slipway.adapters.factory import open_artifact_store, open_metadata_store
from slipway.core.records import VersionRecord
from slipway.registry.service import Registry

Register = Callable[..., tuple[VersionRecord, bool]]


@pytest.fixture
def registry(metadata_url: str, tmp_path: Path) -> Iterator[Registry]:
    metadata = open_metadata_store(metadata_url)
    artifacts = open_artifact_store(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")
    yield Registry(metadata, artifacts, actor="ana@laptop")
    metadata.close()


@pytest.fixture
def register(registry: Registry, tmp_path: Path) -> Register:
    """Register a fresh tiny artifact: ``register("credit", b"payload")``."""

    def _register(model: str = "credit", payload: bytes = b"v1", **options: object):
        folder = tmp_path / "builds" / f"{model}-{payload.hex()}"
        manifest = write_tiny_artifact(folder, name=model, payload=payload)
        return registry.register(manifest, folder, **options)

    return _register
