"""Artifact folders in any fsspec filesystem: a local folder by default, object storage at scale.

Layout: ``<root>/<digest>/`` holds the files the manifest lists and ``slipway.json`` itself,
written last, so a folder with a manifest is complete. On a local disk an artifact is assembled
in a staging folder and renamed into place, so readers never see it half-written; remote stores
have no rename, so there the manifest-last rule alone marks completeness. ``fetch`` hands back
the stored folder on a local disk and a local cached copy otherwise.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from slipway.core.errors import (
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    SlipwayError,
    StoreError,
)
from slipway.core.manifest import MANIFEST_NAME, Manifest, check_digest, parse_manifest
from slipway.core.settings import redact_url

_URL_HELP = "check SLIPWAY_STORE_URL"


class FsspecArtifactStore:
    """An ``ArtifactStore`` at ``url`` (a plain path means a local folder)."""

    def __init__(self, url: str, *, cache_dir: Path, **storage_options: Any) -> None:
        self.url = url
        self.cache_dir = Path(cache_dir)
        try:
            self._fs, root = url_to_fs(url, **storage_options)
        except ImportError as exc:
            raise StoreError(f"cannot open the artifact store {self.display_url}: {exc}") from exc
        except ValueError as exc:
            raise InvalidInputError(
                f"unsupported artifact store URL {self.display_url}: {exc}; {_URL_HELP}"
            ) from exc
        self._root = str(root).rstrip("/")
        self._local = isinstance(self._fs, LocalFileSystem)

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    def exists(self, digest: str) -> bool:
        with self._translated():
            return bool(self._fs.exists(self._path(digest, MANIFEST_NAME)))

    def put(self, source: Path, digest: str) -> None:
        """Copy the artifact folder ``source`` into the store; a no-op if it is already there."""
        check_digest(digest)
        manifest = _source_manifest(source, digest)
        if self.exists(digest):
            return
        with self._translated():
            if self._local:
                target = Path(self._path(digest))
                _assemble(target, manifest, lambda path, dst: shutil.copyfile(source / path, dst))
            else:
                self._upload(source, manifest, digest)

    def fetch(self, digest: str) -> Path:
        if not self.exists(digest):
            raise NotFoundError(
                f"artifact {digest} is not in the store {self.display_url}; register it again "
                "or point SLIPWAY_STORE_URL at the store that holds it"
            )
        if self._local:
            return Path(self._path(digest))
        cached = self.cache_dir / digest
        if not (cached / MANIFEST_NAME).is_file():
            with self._translated():
                manifest = parse_manifest(self._fs.cat_file(self._path(digest, MANIFEST_NAME)))
                _assemble(cached, manifest, lambda path, dst: self._download(digest, path, dst))
        return cached

    def _path(self, digest: str, *parts: str) -> str:
        check_digest(digest)
        return "/".join((self._root, digest, *parts))

    def _upload(self, source: Path, manifest: Manifest, digest: str) -> None:
        for entry in manifest.files:
            self._fs.put_file(str(source / entry.path), self._path(digest, entry.path))
        self._fs.put_file(str(source / MANIFEST_NAME), self._path(digest, MANIFEST_NAME))

    def _download(self, digest: str, path: str, destination: Path) -> None:
        self._fs.get_file(self._path(digest, path), str(destination))

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except SlipwayError:
            raise
        except OSError as exc:
            raise StoreError(
                f"artifact store {self.display_url} failed: {redact_url(str(exc))}; {_URL_HELP}"
            ) from exc


def _source_manifest(source: Path, digest: str) -> Manifest:
    manifest_file = source / MANIFEST_NAME
    if not manifest_file.is_file():
        raise NotFoundError(f"{source} is not an artifact folder: it has no {MANIFEST_NAME}")
    manifest = parse_manifest(manifest_file.read_bytes(), source=str(manifest_file))
    if manifest.digest != digest:
        raise IntegrityError(f"artifact at {source} has digest {manifest.digest}, not {digest}; rebuild it")
    return manifest


def _assemble(target: Path, manifest: Manifest, copy: Callable[[str, Path], object]) -> None:
    """Build the folder ``target`` from the listed files (manifest last), then rename into place."""
    staging = target.with_name(f".staging-{target.name}-{uuid.uuid4().hex}")
    try:
        for entry in manifest.files:
            destination = staging / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy(entry.path, destination)
        copy(MANIFEST_NAME, staging / MANIFEST_NAME)
        _rename_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _rename_into_place(staging: Path, target: Path) -> None:
    try:
        os.rename(staging, target)
    except OSError:
        if (target / MANIFEST_NAME).is_file():
            return  # another writer finished the same content first
        shutil.rmtree(target, ignore_errors=True)  # left over by a writer that crashed
        os.rename(staging, target)
