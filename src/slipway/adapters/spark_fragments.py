"""Parquet input read by the Spark engine's Python tasks themselves, not by Spark.

On ``spark.read.parquet`` → ``mapInArrow`` the JVM decodes the Parquet columns, turns them into
rows and the rows back into Arrow for Python: on 30 float columns and ``local[2]`` that JVM work,
not the model, set the pace. When the input is Parquet that Spark would read from the local
filesystem, the driver lists the row groups instead and hands each task a few *fragments* (runs
of row groups of one file); the task reads them with pyarrow, in batches of at most the engine's
batch rows, so the only rows Spark handles are the scored ones it writes.

The rows are cut, in file and row-group order, into contiguous runs of near-equal size, one per
task: the output holds the input's rows in the input's order, as Spark's own reading of a single
file gives. A run may begin or end inside a row group; its task then reads that row group and
skips the rows another task has.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from py4j.protocol import Py4JError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from slipway.batch.sources import ParquetSource, Source

#: One row per task: the fragments it reads, in order.
FRAGMENTS = "fragments"
_FRAGMENT = pa.struct(
    [
        pa.field("path", pa.string()),
        pa.field("row_groups", pa.list_(pa.int32())),
        pa.field("skip", pa.int64()),
        pa.field("rows", pa.int64()),
    ]
)
TASK_SCHEMA = pa.schema([pa.field(FRAGMENTS, pa.list_(_FRAGMENT))])


@dataclass(frozen=True, slots=True)
class RowGroup:
    path: str
    index: int
    rows: int


@dataclass(frozen=True, slots=True)
class Fragment:
    """``rows`` rows of the consecutive ``row_groups`` of the file ``path``, after the first ``skip``."""

    path: str
    row_groups: tuple[int, ...]
    skip: int
    rows: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Fragment:
        """The fragment from its value in a ``TASK_SCHEMA`` row, as ``to_row`` gives it."""
        return cls(row["path"], tuple(row["row_groups"]), row["skip"], row["rows"])

    def to_row(self) -> dict[str, Any]:
        return {"path": self.path, "row_groups": list(self.row_groups), "skip": self.skip, "rows": self.rows}


def row_groups(files: Sequence[str]) -> list[RowGroup]:
    """Every row group of ``files``, in file then row-group order, from the footers."""
    groups = []
    for path in (os.path.abspath(name) for name in files):  # the tasks' working folder may differ
        metadata = pq.read_metadata(path)
        groups += [
            RowGroup(path, index, metadata.row_group(index).num_rows)
            for index in range(metadata.num_row_groups)
        ]
    return groups


def task_count(
    groups: Sequence[RowGroup], *, partitions: int | None, parallelism: int, chunk_rows: int
) -> int:
    """``partitions`` if given; else a task per row group, fewer when row groups are much smaller
    than ``chunk_rows`` (a task costs Spark a few milliseconds), and never fewer than Spark's cores."""
    if partitions is not None:
        return partitions
    total = sum(group.rows for group in groups)
    return max(parallelism, min(len(groups), -(-total // max(1, chunk_rows))))


def plan_tasks(groups: Sequence[RowGroup], tasks: int) -> list[list[Fragment]]:
    """The rows of ``groups``, in order, cut into ``tasks`` runs of near-equal size (fewer if there
    are fewer rows than tasks), each run as the fragments one task reads."""
    total = sum(group.rows for group in groups)
    ends = [total * task // tasks for task in range(1, tasks + 1)]  # each task's last row + 1
    plan: list[list[Fragment]] = [[] for _ in range(tasks)]
    task, offset = 0, 0
    for group in groups:
        start = 0
        while start < group.rows:
            while ends[task] <= offset + start:
                task += 1
            stop = min(group.rows, ends[task] - offset)
            _add(plan[task], group, start, stop - start)
            start = stop
        offset += group.rows
    return [fragments for fragments in plan if fragments]


def _add(fragments: list[Fragment], group: RowGroup, skip: int, rows: int) -> None:
    """Append ``rows`` rows of ``group`` (after ``skip``), extending the last fragment if it ends
    just before ``group`` in the same file."""
    last = fragments[-1] if fragments else None
    if last is not None and last.path == group.path and last.row_groups[-1] == group.index - 1 and skip == 0:
        fragments[-1] = Fragment(last.path, (*last.row_groups, group.index), last.skip, last.rows + rows)
    else:
        fragments.append(Fragment(group.path, (group.index,), skip, rows))


def read_tasks(
    tasks: Iterator[pa.RecordBatch], *, schema: pa.Schema, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """In a task: the rows of the fragments in ``tasks`` (batches of ``TASK_SCHEMA``) as batches of
    at most ``batch_rows`` rows, cast to ``schema`` (the columns and types Spark's reading gives)."""
    for batch in tasks:
        for fragments in batch.column(FRAGMENTS).to_pylist():
            for fragment in fragments:
                yield from read_fragment(Fragment.from_row(fragment), schema=schema, batch_rows=batch_rows)


def read_fragment(fragment: Fragment, *, schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of ``fragment``, at most ``batch_rows`` at a time (memory stays at about one batch,
    as ``ParquetSource.batches`` keeps it); pyarrow's own threads are off, Spark runs a task per core."""
    skip, left = fragment.skip, fragment.rows
    with pq.ParquetFile(fragment.path, pre_buffer=False) as parquet:
        batches = parquet.iter_batches(
            batch_size=batch_rows,
            row_groups=list(fragment.row_groups),
            columns=schema.names,
            use_threads=False,
        )
        for batch in batches:
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            piece = batch.slice(skip, left)
            skip, left = 0, left - piece.num_rows
            yield piece.select(schema.names).cast(schema)
            if left == 0:
                return


def task_frame(
    spark: SparkSession, source: Source, *, schema: pa.Schema, partitions: int | None, chunk_rows: int
) -> DataFrame | None:
    """The tasks that read ``source`` themselves, one row and one partition each; None when Spark
    must read it (not Parquet, a Hive partition column needed, a type Spark reads its own way, a
    default filesystem other than the local one, or no rows)."""
    if not (
        isinstance(source, ParquetSource)
        and _readable_in_tasks(source, schema)
        and _spark_reads_local_files(spark)
    ):
        return None
    groups = row_groups(source.files)
    context = spark.sparkContext
    count = task_count(
        groups, partitions=partitions, parallelism=context.defaultParallelism, chunk_rows=chunk_rows
    )
    plan = plan_tasks(groups, count)
    if not plan:
        return None
    rows = [([fragment.to_row() for fragment in fragments],) for fragments in plan]
    # parallelize with one slice per element: task i is partition i, so the parts keep the order.
    return spark.createDataFrame(context.parallelize(rows, len(rows)), from_arrow_schema(TASK_SCHEMA))


def _readable_in_tasks(source: ParquetSource, schema: pa.Schema) -> bool:
    """Whether pyarrow's reading of every column, cast to ``schema`` (Spark's), gives Spark's values:
    true of stored (not Hive partition) columns of plain numbers, booleans and strings."""
    stored = source.schema
    for field in schema:
        index = stored.get_field_index(field.name)
        if index < 0 or field.name in source.partition_names:
            return False
        kind = stored.field(index).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        family = _family(kind)
        if family is None or family != _family(field.type):
            return False
    return True


def _family(kind: pa.DataType) -> str | None:
    if pa.types.is_signed_integer(kind):
        return "integer"
    if pa.types.is_float32(kind) or pa.types.is_float64(kind):
        return "float"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    return None


def _spark_reads_local_files(spark: SparkSession) -> bool:
    """Whether Spark resolves a path without a scheme to the local filesystem, as the driver did.

    A cluster whose default filesystem is HDFS reads ``/data/x.parquet`` from HDFS: there the
    tasks do not read the input themselves.
    """
    try:
        default = spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS", "file:///")
    except (AttributeError, Py4JError):
        return False
    return urlsplit(str(default)).scheme in ("", "file")
