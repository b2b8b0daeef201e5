"""Where batch rows come from: Parquet (a file or a partitioned folder), CSV, or a SQL query.

A ``Source`` streams Arrow record batches of the columns asked for, never the whole input, and
says what it is: its column names, its row count when cheap to know, and a fingerprint of its
content (what ``--resume`` and the registry record key on). File sources live here; a SQL query
source is an adapter (``slipway.adapters.sql_source``) because it needs a database driver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_ds
import pyarrow.parquet as pq

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.profile import DataProfile

_FORMAT_HELP = "use a .parquet file or folder, a .csv file, or a database URL with a query"
_ARROW_KINDS: dict[str, pa.DataType] = {
    "number": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "category": pa.string(),
    "string": pa.string(),
    "datetime": pa.timestamp("ns"),
}


@runtime_checkable
class Source(Protocol):
    #: What to show and record (a path, or a database URL with its password hidden).
    location: str
    #: Whether the same source read twice gives the same rows in the same order (for --resume).
    replayable: bool

    @property
    def column_names(self) -> tuple[str, ...]: ...

    def count_rows(self) -> int | None:
        """The number of rows, when the source can tell without reading them (else None)."""
        ...

    def fingerprint(self) -> str:
        """A sha256 identifying the content (files) or the question asked (queries)."""
        ...

    def batches(
        self, columns: Sequence[str], *, batch_size: int, types: Mapping[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns`` in a stable order; ``types`` fixes the type of columns
        that formats without a schema (CSV, query results) would otherwise guess per block."""
        ...


def arrow_types(profile: DataProfile | None) -> dict[str, pa.DataType]:
    """The Arrow type of each feature, from the training profile (empty without one)."""
    if profile is None:
        return {}
    return {feature.name: _ARROW_KINDS[feature.kind] for feature in profile.features}


def open_file_source(path: str | Path) -> Source:
    """A Parquet or CSV source for ``path``; NotFoundError or InvalidInputError when unusable."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"input {str(path)!r} does not exist; {_FORMAT_HELP}")
    if path.is_dir() or path.suffix.lower() in {".parquet", ".pq"}:
        return ParquetSource(path)
    if path.suffix.lower() == ".csv":
        return CsvSource(path)
    raise InvalidInputError(
        f"input {str(path)!r}: unsupported format {path.suffix or '(none)'}; {_FORMAT_HELP}"
    )


def check_columns(source: Source, required: Sequence[str]) -> None:
    """Raise InvalidInputError naming the first column the model needs that the input lacks."""
    present = set(source.column_names)
    missing = [name for name in required if name not in present]
    if missing:
        raise InvalidInputError(
            f"input {source.location!r} has no column {missing[0]!r}"
            + (f" (nor {', '.join(map(repr, missing[1:4]))})" if len(missing) > 1 else "")
            + f"; the model takes {', '.join(required)}. Its columns: {', '.join(source.column_names)}"
        )


def _unreadable(location: str, exc: Exception) -> InvalidInputError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InvalidInputError(
        f"cannot read input {location!r}: {first}; check it is a valid file of that format"
    )


def hash_files(root: Path, files: Sequence[str]) -> str:
    """sha256 over each file's path (relative to ``root``) and content, in the order given."""
    digest = hashlib.sha256()
    for name in files:
        path = Path(name)
        relative = path.relative_to(root).as_posix() if path != root else path.name
        digest.update(relative.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


class ParquetSource:
    """A Parquet file, or a folder of them (Hive partition folders such as ``day=2026-11-27``).

    Files are read one after the other in name order, each with ``ParquetFile.iter_batches``
    without pre-buffering: measured here, pyarrow's dataset scanner read ahead of a slow consumer
    (100 MB held for 5 MB batches) and pre-buffering kept a whole file's buffers (240 MB), while
    this way memory stays at about one row group.
    """

    replayable = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        try:
            found = pa_ds.dataset(path, format="parquet", partitioning="hive")
            self._schema = found.schema
            self._partitions = found.partitioning.schema if path.is_dir() and found.partitioning else None
            self._files = sorted(found.files)
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(self.location, exc) from exc
        if not self._files:
            raise InvalidInputError(f"input folder {self.location!r} holds no Parquet files")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self._schema.names)

    @property
    def schema(self) -> pa.Schema:
        """The columns and their Arrow types, Hive partition columns included."""
        return self._schema

    @property
    def partition_names(self) -> tuple[str, ...]:
        """The columns whose values are in folder names (``day=2026-11-27``), not in the files."""
        return tuple(self._partitions.names) if self._partitions is not None else ()

    @property
    def files(self) -> tuple[str, ...]:
        """The Parquet files, in the order they are read."""
        return tuple(self._files)

    def count_rows(self) -> int | None:
        try:
            return int(sum(pq.read_metadata(file).num_rows for file in self._files))
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(self.location, exc) from exc

    def fingerprint(self) -> str:
        root = self.path if self.path.is_dir() else self.path.parent
        return hash_files(root, self._files)

    def batches(
        self, columns: Sequence[str], *, batch_size: int, types: Mapping[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        partitioned = set(self._partitions.names) if self._partitions is not None else set()
        stored = [name for name in columns if name not in partitioned]
        for file in self._files:
            keys = self._partition_values(file)
            try:
                with pq.ParquetFile(file, pre_buffer=False) as parquet:
                    for batch in parquet.iter_batches(batch_size=batch_size, columns=stored):
                        yield _with_constants(batch, keys, columns)
            except (pa.ArrowException, OSError) as exc:
                raise _unreadable(file, exc) from exc

    def _partition_values(self, file: str) -> dict[str, pa.Scalar]:
        if self._partitions is None:
            return {}
        values: dict[str, pa.Scalar] = {}
        for segment in Path(file).relative_to(self.path).parent.parts:
            name, sep, text = segment.partition("=")
            if sep and name in self._partitions.names:
                kind = self._partitions.field(name).type
                values[name] = pa.scalar(text, pa.string()).cast(kind)
        return values


def _with_constants(
    batch: pa.RecordBatch, constants: Mapping[str, pa.Scalar], columns: Sequence[str]
) -> pa.RecordBatch:
    """``batch`` with the partition columns of its file added, in the order of ``columns``."""
    if not constants:
        return batch
    arrays = [
        pa.repeat(constants[name], batch.num_rows) if name in constants else batch.column(name)
        for name in columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=list(columns))


class CsvSource:
    """A CSV file with a header row, streamed in blocks."""

    replayable = True
    block_bytes = 8 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        try:
            with pa_csv.open_csv(path) as reader:
                self._names = tuple(reader.schema.names)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise _unreadable(self.location, exc) from exc

    @property
    def column_names(self) -> tuple[str, ...]:
        return self._names

    def count_rows(self) -> int | None:
        return None

    def fingerprint(self) -> str:
        return hash_files(self.path.parent, [str(self.path)])

    def batches(
        self, columns: Sequence[str], *, batch_size: int, types: Mapping[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        convert = pa_csv.ConvertOptions(
            include_columns=list(columns),
            column_types={name: kind for name, kind in types.items() if name in columns},
            strings_can_be_null=True,
        )
        read = pa_csv.ReadOptions(block_size=self.block_bytes)
        try:
            with pa_csv.open_csv(self.path, read_options=read, convert_options=convert) as reader:
                yield from reader
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise _unreadable(self.location, exc) from exc
