"""FsspecArtifactStore against a local folder and fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from slipway.adapters.factory import open_artifact_store
from slipway.adapters.fsspec_store import FsspecArtifactStore
from slipway.core.canonical import sha256_hex
from slipway.core.errors import IntegrityError, InvalidInputError, NotFoundError
from slipway.core.manifest import MANIFEST_NAME, FileEntry, Manifest, ModelSection

FILES = {"model/model.bin": b"\x00weights", "params.json": b'{"depth": 3}', "docs/README.md": b"hi"}


def write_artifact(folder: Path, files: dict[str, bytes] = FILES) -> Manifest:
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    entries = [FileEntry(path=p, sha256=sha256_hex(d), size=len(d)) for p, d in files.items()]
    manifest = Manifest(
        name="credit",
        model=ModelSection(flavor="test", path="model/model.bin", task="classification", features=("x",)),
        files=tuple(sorted(entries, key=lambda e: e.path)),
        slipway_version="0.1.0",
    )
    (folder / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    return manifest


@pytest.fixture
def artifact(tmp_path: Path) -> tuple[Path, Manifest]:
    folder = tmp_path / "build"
    return folder, write_artifact(folder)


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A unique root in fsspec's process-wide memory filesystem, emptied afterwards."""
    root = f"memory://slipway-test-{uuid.uuid4().hex}"
    yield root
    memory = fsspec.filesystem("memory")
    if memory.exists(root):
        memory.rm(root, recursive=True)


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FsspecArtifactStore:
    local = request.param == "local"
    root = str(tmp_path / "artifacts") if local else request.getfixturevalue("memory_root")
    return FsspecArtifactStore(root, cache_dir=tmp_path / "cache")


def read_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_put_then_fetch_gives_the_same_files(store, artifact) -> None:
    source, manifest = artifact
    assert not store.exists(manifest.digest)
    store.put(source, manifest.digest)
    assert store.exists(manifest.digest)
    fetched = store.fetch(manifest.digest)
    assert fetched.name == manifest.digest
    assert read_tree(fetched) == read_tree(source)


def test_put_is_idempotent(store, artifact, tmp_path: Path) -> None:
    source, manifest = artifact
    store.put(source, manifest.digest)
    copy = tmp_path / "copy"
    write_artifact(copy)
    (copy / "unlisted.txt").write_text("not part of the artifact")
    store.put(copy, manifest.digest)
    assert read_tree(store.fetch(manifest.digest)) == read_tree(source)


def test_only_listed_files_are_stored(store, artifact) -> None:
    source, manifest = artifact
    (source / "scratch.tmp").write_text("left over by the build")
    store.put(source, manifest.digest)
    assert "scratch.tmp" not in read_tree(store.fetch(manifest.digest))


def test_local_fetch_returns_the_stored_folder(tmp_path: Path, artifact) -> None:
    source, manifest = artifact
    store = FsspecArtifactStore(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")
    store.put(source, manifest.digest)
    assert store.fetch(manifest.digest) == tmp_path / "artifacts" / manifest.digest
    assert not (tmp_path / "cache").exists()
    assert [p.name for p in (tmp_path / "artifacts").iterdir()] == [manifest.digest]


def test_remote_fetch_downloads_once_into_the_cache(tmp_path: Path, artifact, memory_root) -> None:
    source, manifest = artifact
    store = FsspecArtifactStore(memory_root, cache_dir=tmp_path / "cache")
    store.put(source, manifest.digest)
    fetched = store.fetch(manifest.digest)
    assert fetched == tmp_path / "cache" / manifest.digest
    fsspec.filesystem("memory").rm(f"{memory_root}/{manifest.digest}/params.json")
    assert read_tree(store.fetch(manifest.digest)) == read_tree(source)  # served from the cache
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [manifest.digest]


def test_a_folder_without_its_manifest_is_not_there(store, artifact, tmp_path: Path) -> None:
    source, manifest = artifact
    store.put(source, manifest.digest)
    fs, root = fsspec.core.url_to_fs(store.url)
    fs.rm(f"{root}/{manifest.digest}/{MANIFEST_NAME}")
    assert not store.exists(manifest.digest)
    store.put(source, manifest.digest)  # completes it again
    assert store.exists(manifest.digest)


def test_put_refuses_a_source_whose_digest_differs(store, artifact) -> None:
    source, _ = artifact
    with pytest.raises(IntegrityError, match=r"has digest [0-9a-f]{64}, not f{64}"):
        store.put(source, "f" * 64)


def test_put_refuses_a_folder_that_is_not_an_artifact(store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="is not an artifact folder"):
        store.put(tmp_path, "a" * 64)


def test_fetch_of_a_missing_digest(store) -> None:
    with pytest.raises(NotFoundError, match=f"artifact {'a' * 64} is not in the store"):
        store.fetch("a" * 64)


@pytest.mark.parametrize(
    "digest",
    ["", "abc", "A" * 64, "../" + "a" * 61, "a" * 63 + "/", "a" * 65],
    ids=["empty", "short", "uppercase", "traversal", "slash", "long"],
)
@pytest.mark.parametrize("operation", ["exists", "fetch", "put"])
def test_malformed_digests_are_refused(store, artifact, digest: str, operation: str) -> None:
    source, _ = artifact
    args = (source, digest) if operation == "put" else (digest,)
    with pytest.raises(IntegrityError, match="malformed artifact digest"):
        getattr(store, operation)(*args)


def test_display_url_hides_credentials(tmp_path: Path) -> None:
    store = FsspecArtifactStore("memory://user:s3cret@bucket/models", cache_dir=tmp_path)
    assert store.display_url == "memory://user:***@bucket/models"


@pytest.mark.parametrize(
    ("url", "error", "match"),
    [
        ("nosuchfs://bucket/x", InvalidInputError, "unsupported artifact store URL"),
    ],
    ids=["unknown-protocol"],
)
def test_bad_store_urls(tmp_path: Path, url: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        open_artifact_store(url, cache_dir=tmp_path)


def test_a_plain_path_is_a_local_folder(tmp_path: Path, artifact) -> None:
    source, manifest = artifact
    store = open_artifact_store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    store.put(source, manifest.digest)
    assert (tmp_path / "store" / manifest.digest / MANIFEST_NAME).is_file()
