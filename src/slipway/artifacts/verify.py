"""Verify an artifact folder against its manifest: every byte, no missing and no extra files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from slipway.core.canonical import sha256_hex
from slipway.core.errors import IntegrityError, NotFoundError
from slipway.core.manifest import MANIFEST_NAME, Manifest, parse_manifest

_FIX = "rebuild the artifact, or fetch it again from the registry"


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(root: Path) -> list[str]:
    """Every file under ``root`` as a relative POSIX path; symlinks are refused, not followed."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise IntegrityError(
                f"artifact holds a symbolic link {path.relative_to(root).as_posix()!r}; {_FIX}"
            )
        if path.is_file():
            found.append(path.relative_to(root).as_posix())
    return found


def read_manifest(root: Path) -> Manifest:
    if not root.is_dir():
        raise NotFoundError(f"artifact folder {str(root)!r} does not exist")
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise IntegrityError(
            f"{str(root)!r} has no {MANIFEST_NAME}: it is not a slipway artifact "
            "(create one with `slipway build`)"
        )
    data = path.read_bytes()
    manifest = parse_manifest(data)
    if manifest.to_bytes() != data:
        raise IntegrityError(
            f"{MANIFEST_NAME} was modified: it is not in the canonical form slipway writes; {_FIX}"
        )
    return manifest


def verify_artifact(root: Path, *, expected_digest: str | None = None) -> Manifest:
    """Return the manifest of the artifact at ``root`` after checking every file it lists.

    Raises IntegrityError naming the first file that is missing, unexpected, or changed.
    """
    manifest = read_manifest(root)
    if expected_digest is not None and manifest.digest != expected_digest:
        raise IntegrityError(
            f"artifact at {str(root)!r} has digest {manifest.digest}, expected {expected_digest}; {_FIX}"
        )
    listed = {entry.path: entry for entry in manifest.files}
    present = set(list_files(root)) - {MANIFEST_NAME}
    for path in sorted(set(listed) - present):
        raise IntegrityError(f"artifact file {path!r} is missing; {_FIX}")
    for path in sorted(present - set(listed)):
        raise IntegrityError(
            f"unexpected file {path!r} in the artifact: the manifest does not list it; {_FIX}"
        )
    for entry in manifest.files:
        file = root / entry.path
        if file.stat().st_size != entry.size or hash_file(file) != entry.sha256:
            raise IntegrityError(
                f"artifact file {entry.path!r} was modified: its sha256 does not match the manifest; {_FIX}"
            )
    return manifest


def digest_of_bytes(data: bytes) -> str:
    return sha256_hex(data)
