"""Open the registry's stores from URLs (``SLIPWAY_REGISTRY_URL``, ``SLIPWAY_STORE_URL``).

| registry URL                                  | store                                  |
|-----------------------------------------------|----------------------------------------|
| ``sqlite:///relative.db``, ``sqlite:////abs`` | ``SqlMetadataStore`` on a SQLite file  |
| ``postgresql://…``, ``postgresql+psycopg://…`` | ``SqlMetadataStore`` via psycopg 3     |
| ``memory://``                                 | ``InMemoryMetadataStore`` (tests)      |

Artifact stores take any fsspec URL; a plain path is a local folder. The adapters are imported
only when a URL needs them, so importing this module stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from slipway.core.errors import InvalidInputError, StoreError
from slipway.core.protocols import ArtifactStore, MetadataStore
from slipway.core.settings import redact_url

_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_REGISTRY_HELP = (
    "use sqlite:///PATH, postgresql+psycopg://USER:PASSWORD@HOST/DB or memory://; check SLIPWAY_REGISTRY_URL"
)


def open_metadata_store(url: str) -> MetadataStore:
    """The metadata store at ``url``, migrated to the current schema."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "memory":
        from slipway.adapters.memory_metadata import InMemoryMetadataStore

        return InMemoryMetadataStore()
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        return _open_sql(_sqlite_url(url))
    if scheme in _POSTGRES_SCHEMES:
        return _open_sql("postgresql+psycopg://" + url.partition("://")[2])
    raise InvalidInputError(f"unsupported registry URL {redact_url(url)!r}; {_REGISTRY_HELP}")


def open_artifact_store(url: str, *, cache_dir: Path) -> ArtifactStore:
    """The artifact store at ``url``; remote artifacts are cached under ``cache_dir``."""
    from slipway.adapters.fsspec_store import FsspecArtifactStore

    return FsspecArtifactStore(url, cache_dir=cache_dir)


def _open_sql(url: str) -> MetadataStore:
    import sqlalchemy as sa

    from slipway.adapters.sql_metadata import SqlMetadataStore

    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidInputError(f"malformed registry URL {redact_url(url)!r}; {_REGISTRY_HELP}") from exc
    try:
        return SqlMetadataStore.open(parsed)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"cannot open the registry at {redact_url(url)}: the driver {exc.name} is not "
            "installed; pip install 'slipway[postgres]'"
        ) from exc


def _sqlite_url(url: str) -> str:
    """Check a SQLite URL names a file, and create the folder it lives in."""
    database = url.partition("://")[2].removeprefix("/").partition("?")[0]
    if database in {"", ":memory:"}:
        raise InvalidInputError(
            f"registry URL {url!r} names no file; use sqlite:///PATH, or memory:// for a "
            "registry that lives only as long as the process"
        )
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the registry folder {folder}: {exc.strerror}") from exc
    return url
