"""Validation runs in every MetadataStore: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from slipway.core.errors import NotFoundError
from slipway.core.protocols import MetadataStore
from slipway.core.records import ValidationRunRecord, VersionRecord, VersionStatus


def run(version: int, verdict: str, **changes: object) -> ValidationRunRecord:
    record = ValidationRunRecord(
        name="credit",
        version=version,
        digest="a" * 64,
        plan_digest="b" * 64,
        verdict=verdict,
        started_at="2026-11-27T10:00:00.000000Z",
        finished_at="2026-11-27T10:01:00.000000Z",
        actor="ana@laptop",
        environment={"python": "3.11.7", "packages": {"numpy": "2.4"}},
        results={
            "verdict": verdict,
            "scenarios": [{"name": "base_case", "metrics": {"accuracy": 0.8, "none": None}}],
        },
        reports={"html": "/reports/credit-1/report.html"},
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


@pytest.fixture
def with_versions(metadata_store: MetadataStore) -> MetadataStore:
    with metadata_store.write() as tx:
        tx.ensure_model("credit", created_at="t")
        for digest in "ab":
            tx.insert_version(
                VersionRecord(
                    name="credit",
                    version=0,
                    digest=digest * 64,
                    status=VersionStatus.REGISTERED,
                    created_at="t",
                    created_by="me",
                    flavor="sklearn",
                    task="classification",
                )
            )
    return metadata_store


def test_runs_round_trip_in_order(with_versions: MetadataStore) -> None:
    with with_versions.write() as tx:
        first = tx.insert_validation_run(run(1, "fail"))
        second = tx.insert_validation_run(run(1, "pass"))
        other = tx.insert_validation_run(run(2, "pass"))
    assert first.id < second.id < other.id
    with with_versions.read() as tx:
        assert tx.list_validation_runs("credit", 1) == [first, second]
        assert tx.list_validation_runs("credit") == [first, second, other]
        assert tx.list_validation_runs("churn") == []
    assert second.results["scenarios"][0]["metrics"] == {"accuracy": 0.8, "none": None}
    assert second == dataclasses.replace(run(1, "pass"), id=second.id)


def test_a_run_needs_an_existing_version(with_versions: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="has no version 9"), with_versions.write() as tx:
        tx.insert_validation_run(run(9, "pass"))


def test_a_failed_transaction_stores_no_run(with_versions: MetadataStore) -> None:
    def store_then_fail() -> None:
        with with_versions.write() as tx:
            tx.insert_validation_run(run(1, "pass"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store_then_fail()
    with with_versions.read() as tx:
        assert tx.list_validation_runs("credit") == []
