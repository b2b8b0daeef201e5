"""The batch run records of every MetadataStore: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from slipway.core.batch_run import BatchRunRecord, BatchRunStatus
from slipway.core.errors import ConflictError
from slipway.core.protocols import MetadataStore


def run(
    run_id: str, *, model: str = "credit", finished_at: str = "2026-11-27T10:00:00.000000Z"
) -> BatchRunRecord:
    return BatchRunRecord(
        run_id=run_id,
        model=model,
        version=3,
        digest="d" * 64,
        engine="local",
        status=BatchRunStatus.COMPLETED,
        input="/data/loans.parquet",
        input_fingerprint="f" * 64,
        output="/data/scored",
        started_at="2026-11-27T09:59:00.000000Z",
        finished_at=finished_at,
        duration_s=60.5,
        rows_in=3_000_000_000,  # beyond 32 bits: the columns are BIGINT
        rows_out=3_000_000_000,
        rows_flagged=12,
        rows_rejected=3,
        output_digest="o" * 64,
        options={"chunk_rows": 100_000, "workers": None},
    )


def test_a_batch_run_round_trips(metadata_store: MetadataStore) -> None:
    record = run("a1")
    failed = dataclasses.replace(
        run("a2"),
        status=BatchRunStatus.FAILED,
        version=None,
        output_digest=None,
        error="InvalidInputError: x",
    )
    with metadata_store.write() as tx:
        tx.insert_batch_run(record)
        tx.insert_batch_run(failed)
    with metadata_store.read() as tx:
        assert tx.get_batch_run("a1") == record
        assert tx.get_batch_run("a2") == failed
        assert tx.get_batch_run("nope") is None


def test_batch_runs_are_listed_newest_first_and_by_model(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        tx.insert_batch_run(run("r1", finished_at="2026-11-27T10:00:00.000000Z"))
        tx.insert_batch_run(run("r2", finished_at="2026-11-27T12:00:00.000000Z"))
        tx.insert_batch_run(run("r3", model="churn", finished_at="2026-11-27T11:00:00.000000Z"))
    with metadata_store.read() as tx:
        assert [r.run_id for r in tx.list_batch_runs()] == ["r2", "r3", "r1"]
        assert [r.run_id for r in tx.list_batch_runs(model="credit")] == ["r2", "r1"]
        assert [r.run_id for r in tx.list_batch_runs(limit=1)] == ["r2"]


def test_a_run_id_is_recorded_once(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        tx.insert_batch_run(run("same"))
    with pytest.raises(ConflictError), metadata_store.write() as tx:
        tx.insert_batch_run(run("same"))
    with metadata_store.read() as tx:
        assert len(tx.list_batch_runs()) == 1
