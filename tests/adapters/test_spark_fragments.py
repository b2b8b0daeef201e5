"""Cutting Parquet row groups into the Spark engine's tasks, and reading a task's fragments back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slipway.adapters.spark_fragments import (
    TASK_SCHEMA,
    Fragment,
    RowGroup,
    plan_tasks,
    read_tasks,
    row_groups,
    task_count,
)

A, B = "a.parquet", "b.parquet"


def groups_of(*sizes: int, path: str = A) -> list[RowGroup]:
    return [RowGroup(path, index, rows) for index, rows in enumerate(sizes)]


@pytest.mark.parametrize(
    ("groups", "tasks", "plan"),
    [
        (groups_of(10, 10), 2, [[Fragment(A, (0,), 0, 10)], [Fragment(A, (1,), 0, 10)]]),
        (groups_of(10, 10, 10, 10), 2, [[Fragment(A, (0, 1), 0, 20)], [Fragment(A, (2, 3), 0, 20)]]),
        (groups_of(10), 2, [[Fragment(A, (0,), 0, 5)], [Fragment(A, (0,), 5, 5)]]),
        (
            groups_of(6, 6),
            3,
            [[Fragment(A, (0,), 0, 4)], [Fragment(A, (0, 1), 4, 4)], [Fragment(A, (1,), 2, 4)]],
        ),
        (groups_of(1), 3, [[Fragment(A, (0,), 0, 1)]]),
        (groups_of(4, 0, 4), 2, [[Fragment(A, (0,), 0, 4)], [Fragment(A, (2,), 0, 4)]]),
        (
            [*groups_of(3, path=A), *groups_of(3, path=B)],
            1,
            [[Fragment(A, (0,), 0, 3), Fragment(B, (0,), 0, 3)]],
        ),
        (groups_of(0, 0), 2, []),
    ],
    ids=[
        "group-per-task",
        "two-groups-per-task",
        "group-split",
        "straddling",
        "fewer-rows-than-tasks",
        "empty-group",
        "two-files",
        "no-rows",
    ],
)
def test_tasks_are_contiguous_runs_of_near_equal_size(groups, tasks, plan) -> None:
    assert plan_tasks(groups, tasks) == plan


@given(
    sizes=st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=4), min_size=1, max_size=4),
    tasks=st.integers(1, 12),
)
def test_every_row_is_in_exactly_one_task_in_input_order(sizes: list[list[int]], tasks: int) -> None:
    groups = [group for number, file in enumerate(sizes) for group in groups_of(*file, path=f"{number}")]
    expected = [(g.path, g.index, row) for g in groups for row in range(g.rows)]

    plan = plan_tasks(groups, tasks)

    read = []
    for fragments in plan:
        for fragment in fragments:
            rows = [
                (fragment.path, i, row)
                for i in fragment.row_groups
                for row in range(groups_of_path(groups, fragment.path)[i])
            ]
            read += rows[fragment.skip : fragment.skip + fragment.rows]
    assert read == expected
    sizes_of_tasks = [sum(f.rows for f in fragments) for fragments in plan]
    assert len(plan) == min(tasks, len(expected))
    assert not sizes_of_tasks or max(sizes_of_tasks) - min(sizes_of_tasks) <= 1


def groups_of_path(groups: list[RowGroup], path: str) -> dict[int, int]:
    return {g.index: g.rows for g in groups if g.path == path}


@pytest.mark.parametrize(
    ("sizes", "partitions", "chunk_rows", "count"),
    [
        ([100] * 10, None, 100, 10),  # a task per row group
        ([100] * 10, None, 500, 2),  # small row groups: fewer tasks
        ([1_000], None, 100, 2),  # one large row group: still every core
        ([100] * 10, 3, 100, 3),  # the user's partitions
        ([100] * 10, 40, 100, 40),
    ],
)
def test_the_number_of_tasks(sizes, partitions, chunk_rows, count) -> None:
    groups = groups_of(*sizes)
    assert task_count(groups, partitions=partitions, parallelism=2, chunk_rows=chunk_rows) == count


def test_a_task_reads_its_rows_in_order_cast_to_the_schema_spark_gives(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    table = pa.table(
        {
            "id": pa.array(range(50), pa.int64()),
            "x": pa.array([float(i) / 2 for i in range(50)], pa.float32()),
            "name": pa.array([f"n{i % 3}" for i in range(50)], pa.large_string()).dictionary_encode(),
            "unused": pa.array(range(50), pa.int16()),
        }
    )
    pq.write_table(table, path, row_group_size=7)
    schema = pa.schema([("name", pa.string()), ("id", pa.int64()), ("x", pa.float32())])
    plan = plan_tasks(row_groups([str(path)]), 3)
    descriptors = [
        pa.RecordBatch.from_pylist([{"fragments": [f.to_row() for f in fragments]}], schema=TASK_SCHEMA)
        for fragments in plan
    ]

    batches = list(read_tasks(iter(descriptors), schema=schema, batch_rows=5))

    assert all(batch.schema == schema and batch.num_rows <= 5 for batch in batches)
    assert pa.Table.from_batches(batches, schema=schema) == table.select(["name", "id", "x"]).cast(schema)
