"""References to the training and validation data: URI, sha256, rows, schema; optionally embedded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from slipway.core.errors import InvalidInputError, NotFoundError

DataSource = pd.DataFrame | str | Path


def read_table(source: DataSource, *, what: str = "data") -> pd.DataFrame:
    """Read a DataFrame, a Parquet file or folder, or a CSV file; clear errors otherwise."""
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"{what} file {str(path)!r} does not exist")
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path)
        if path.suffix in {".parquet", ".pq"} or path.is_dir():
            return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read {what} file {str(path)!r}: {exc}") from exc
    raise InvalidInputError(f"{what} file {str(path)!r}: unsupported format; use .parquet or .csv")


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """A content hash of a DataFrame: column names, dtypes and values, not the index."""
    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\0{dtype}\0".encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def fingerprint_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_dataset(
    name: str, source: DataSource, frame: pd.DataFrame, *, root: Path, embed: bool
) -> dict[str, Any]:
    """The reference recorded in ``data.json``; with ``embed`` the rows go to ``data/NAME.parquet``."""
    reference: dict[str, Any] = {
        "rows": len(frame),
        "schema": {str(column): str(dtype) for column, dtype in frame.dtypes.items()},
    }
    if isinstance(source, pd.DataFrame):
        reference.update(uri=None, sha256=fingerprint_frame(frame), hash_of="dataframe")
    else:
        path = Path(source).resolve()
        hashed = fingerprint_file(path) if path.is_file() else fingerprint_frame(frame)
        reference.update(uri=path.as_uri(), sha256=hashed, hash_of="file" if path.is_file() else "dataframe")
    if embed:
        target = root / "data" / f"{name}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target, index=False)
        reference["embedded"] = f"data/{name}.parquet"
    return reference
