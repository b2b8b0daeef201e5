"""Deployments, stats windows, exposures and outcomes in every MetadataStore (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses

import pytest

from slipway.core.deployment import (
    DeploymentRecord,
    DeploymentState,
    ExposureRecord,
    OutcomeRecord,
    SlotRecord,
    StatsWindow,
)
from slipway.core.errors import ConflictError
from slipway.core.protocols import MetadataStore

T0, T1, T2 = "2026-11-27T10:00:00.000000Z", "2026-11-27T10:00:05.000000Z", "2026-11-27T10:00:10.000000Z"


def deployment(name: str = "apartments") -> DeploymentRecord:
    return DeploymentRecord(
        name=name,
        stable=SlotRecord("apartments", 1, "a" * 64, {"runtime": "compiled"}),
        candidate=SlotRecord("apartments", 2, "b" * 64),
        policy={"strategy": "canary", "steps": [5.0, 100.0], "salt": "s"},
        state=DeploymentState.ROLLING,
        step=1,
        step_started_at=T0,
        generation=4,
        created_at=T0,
        updated_at=T1,
    )


def stats(end: str, slot: str = "candidate") -> StatsWindow:
    return StatsWindow(
        "apartments", slot, 2, "host-1/pid-7", T0, end, requests=10, errors=1, flagged=2,
        latency_counts=[0, 3, 7], predictions=[1.5, 2.5], extra={"shadow_agreed": 4.0},
    )  # fmt: skip


def test_a_deployment_round_trips_and_names_are_unique(metadata_store: MetadataStore) -> None:
    record = deployment()
    single = dataclasses.replace(deployment("other"), candidate=None, state=DeploymentState.STABLE)
    with metadata_store.write() as tx:
        tx.insert_deployment(record)
        tx.insert_deployment(single)
    with metadata_store.read() as tx:
        assert tx.get_deployment("apartments") == record
        assert tx.get_deployment("other") == single
        assert [d.name for d in tx.list_deployments()] == ["apartments", "other"]
        assert tx.get_deployment("nope") is None
    with (
        pytest.raises(ConflictError, match="deployment 'apartments' already exists"),
        metadata_store.write() as tx,
    ):
        tx.insert_deployment(record)


def test_updates_are_compare_and_set_on_the_generation(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        tx.insert_deployment(deployment())
    moved = dataclasses.replace(deployment(), step=2, generation=5)
    with metadata_store.write() as tx:
        assert tx.replace_deployment(moved, expected_generation=4) is True
        assert tx.replace_deployment(dataclasses.replace(moved, step=9), expected_generation=4) is False
    with metadata_store.read() as tx:
        assert tx.get_deployment("apartments") == moved


def test_stats_windows_are_listed_from_a_time_on(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        tx.insert_stats([stats(T1), stats(T2, slot="stable")])
        tx.insert_stats([])
    with metadata_store.read() as tx:
        assert tx.list_stats("apartments") == [stats(T1), stats(T2, slot="stable")]
        assert tx.list_stats("apartments", since=T2) == [stats(T2, slot="stable")]
        assert tx.list_stats("other") == []


def test_exposures_skip_request_ids_already_stored(metadata_store: MetadataStore) -> None:
    first = ExposureRecord("r1", "apartments", "candidate", 2, T0, user_key="u1", prediction=3100.5)
    again = dataclasses.replace(first, slot="stable")
    with metadata_store.write() as tx:
        tx.insert_exposures([first, ExposureRecord("r2", "apartments", "stable", 1, T1)])
    with metadata_store.write() as tx:
        tx.insert_exposures([again])  # a retried flush
    with metadata_store.read() as tx:
        assert tx.get_exposure("r1") == first
        assert tx.find_user_exposure("apartments", "u1") == first
        assert tx.find_user_exposure("apartments", "u2") is None
        assert [e.request_id for e in tx.list_exposures("apartments")] == ["r1", "r2"]


def test_outcomes_get_increasing_ids(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        a = tx.insert_outcome(OutcomeRecord("apartments", 1.0, T0, request_id="r1"))
        b = tx.insert_outcome(OutcomeRecord("apartments", 0.0, T1, user_key="u1"))
    with metadata_store.read() as tx:
        assert tx.list_outcomes("apartments") == [a, b]
    assert 0 < a.id < b.id
