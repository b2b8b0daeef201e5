"""The smallest valid artifact folder: enough for the registry, which never loads the model."""

from __future__ import annotations

from pathlib import Path

from slipway.core.canonical import sha256_hex
from slipway.core.manifest import MANIFEST_NAME, FileEntry, Manifest, ModelSection


def write_tiny_artifact(
    folder: Path, *, name: str = "credit", payload: bytes = b"weights", trusted_pickle: bool = False
) -> Manifest:
    """Write an artifact whose one file holds ``payload``; distinct payloads give distinct digests."""
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "model" / "model.bin").write_bytes(payload)
    manifest = Manifest(
        name=name,
        model=ModelSection(
            flavor="test",
            path="model/model.bin",
            task="classification",
            features=("x",),
            trusted_pickle=trusted_pickle,
        ),
        files=(FileEntry(path="model/model.bin", sha256=sha256_hex(payload), size=len(payload)),),
        slipway_version="0.1.0",
    )
    (folder / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    return manifest
