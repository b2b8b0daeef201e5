"""Pack an artifact folder into a reproducible ``.tar.gz`` and unpack one safely."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import tempfile
from pathlib import Path

from slipway.artifacts.verify import list_files, verify_artifact
from slipway.core.errors import IntegrityError, InvalidInputError, NotFoundError
from slipway.core.manifest import MANIFEST_NAME, Manifest, check_relative_path


def pack_artifact(root: Path, destination: Path) -> Manifest:
    """Write ``root`` (verified first) as a tar.gz whose bytes depend only on the artifact."""
    manifest = verify_artifact(root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in [MANIFEST_NAME, *sorted(set(list_files(root)) - {MANIFEST_NAME})]:
            data = (root / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
    ):
        zipped.write(buffer.getvalue())
    partial.replace(destination)
    return manifest


def unpack_artifact(archive_path: Path, destination: Path) -> Manifest:
    """Extract a packed artifact into ``destination`` (which must not exist) and verify it."""
    if not archive_path.is_file():
        raise NotFoundError(f"artifact archive {str(archive_path)!r} does not exist")
    if destination.exists():
        raise InvalidInputError(f"cannot unpack into {str(destination)!r}: it already exists")
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=destination.parent))
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    raise IntegrityError(f"artifact archive entry {member.name!r} is not a regular file")
                check_relative_path(member.name)
            archive.extractall(staging, filter="data")
        manifest = verify_artifact(staging)
        staging.replace(destination)
        return manifest
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise IntegrityError(f"cannot read artifact archive {str(archive_path)!r}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
