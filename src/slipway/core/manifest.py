"""The artifact manifest (``slipway.json``): the index of an artifact and the source of its digest.

An artifact is a folder whose every file is listed here with its size and sha256. The digest of
the artifact is the sha256 of this manifest's canonical JSON, so changing any byte of any file
changes the digest, and two builds from the same inputs share it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.errors import IntegrityError

MANIFEST_NAME = "slipway.json"
FORMAT: Literal["slipway.artifact/1"] = "slipway.artifact/1"
Task = Literal["classification", "regression"]
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def check_relative_path(path: str) -> None:
    """Refuse absolute paths, ``..`` segments, backslashes and odd characters in artifact paths."""
    if not _SAFE_PATH.fullmatch(path) or any(part in {".", ".."} for part in path.split("/")):
        raise IntegrityError(f"unsafe file path {path!r} in artifact manifest")


def check_digest(digest: str) -> None:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise IntegrityError(f"malformed artifact digest {digest!r}: expected 64 lowercase hex digits")


class FileEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str
    size: int = Field(ge=0)

    @field_validator("path")
    @classmethod
    def _safe(cls, value: str) -> str:
        check_relative_path(value)
        return value


class ModelSection(BaseModel):
    """What a loader needs to know to rebuild the model: flavor, entry file, and the task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flavor: str
    path: str
    task: Task
    target: str | None = None
    features: tuple[str, ...]
    classes: tuple[Any, ...] | None = None
    trusted_pickle: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["slipway.artifact/1"] = FORMAT
    name: str
    model: ModelSection
    files: tuple[FileEntry, ...]
    slipway_version: str
    # Later stages (compiled runtimes, guards, lookups) record their facts here by section name.
    sections: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return to_canonical_json(self.model_dump(mode="json"))

    @property
    def digest(self) -> str:
        return sha256_hex(self.to_bytes())

    def file(self, path: str) -> FileEntry:
        for entry in self.files:
            if entry.path == path:
                return entry
        raise IntegrityError(f"artifact manifest lists no file {path!r}")

    def has_file(self, path: str) -> bool:
        return any(entry.path == path for entry in self.files)


def parse_manifest(data: bytes, *, source: str = MANIFEST_NAME) -> Manifest:
    """Build a Manifest from the bytes of ``slipway.json``; IntegrityError if they are not one."""
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise IntegrityError(f"{source} is not a valid slipway manifest: {where}: {first['msg']}") from exc
    paths = [entry.path for entry in manifest.files]
    if len(paths) != len(set(paths)):
        raise IntegrityError(f"{source} lists the same file twice")
    return manifest
