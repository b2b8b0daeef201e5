"""One suite every MetadataStore must pass: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from slipway.adapters.factory import open_metadata_store
from slipway.adapters.sql_engine import alembic_config
from slipway.adapters.sql_metadata import SqlMetadataStore
from slipway.adapters.sql_tables import VERSION_TABLE
from slipway.core.audit import GENESIS_HASH, AuditDraft, verify_chain
from slipway.core.errors import ConflictError, NotFoundError
from slipway.core.protocols import MetadataStore, MetadataTransaction
from slipway.core.records import VersionRecord, VersionStatus


def version(name: str, digest: str) -> VersionRecord:
    return VersionRecord(
        name=name,
        version=0,
        digest=digest,
        status=VersionStatus.REGISTERED,
        created_at="2025-01-01T00:00:00.000000Z",
        created_by="tester",
        flavor="sklearn",
        task="classification",
    )


def add_model(tx: MetadataTransaction, name: str, digests: str = "") -> list[VersionRecord]:
    tx.ensure_model(name, created_at="2025-01-01T00:00:00.000000Z")
    return [tx.insert_version(version(name, char * 64)) for char in digests]


def test_a_new_store_is_empty(metadata_store: MetadataStore) -> None:
    with metadata_store.read() as tx:
        assert tx.list_models() == []
        assert tx.get_model("credit") is None
        assert tx.list_versions("credit") == []
    assert metadata_store.audit_head() is None
    assert list(metadata_store.audit_events()) == []


def test_ensure_model_creates_once(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        first, created = tx.ensure_model("credit", created_at="t1", description="scores")
        again, created_again = tx.ensure_model("credit", created_at="t2")
    assert (created, created_again) == (True, False)
    assert first.name == again.name == "credit"
    assert again.created_at == "t1"
    assert again.description == "scores"


def test_versions_are_numbered_contiguously_per_model(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        credit = add_model(tx, "credit", "abc")
        churn = add_model(tx, "churn", "d")
    assert [v.version for v in credit] == [1, 2, 3]
    assert [v.version for v in churn] == [1]
    with metadata_store.read() as tx:
        assert [m.name for m in tx.list_models()] == ["churn", "credit"]
        assert [m.latest_version for m in tx.list_models()] == [1, 3]
        assert [v.digest[0] for v in tx.list_versions("credit")] == ["a", "b", "c"]


def test_inserted_version_round_trips(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        (inserted,) = add_model(tx, "credit", "a")
    with metadata_store.read() as tx:
        assert tx.get_version("credit", 1) == inserted
        assert tx.find_version_by_digest("credit", "a" * 64) == inserted
        assert tx.find_version_by_digest("credit", "b" * 64) is None
        assert tx.get_version("credit", 2) is None
        assert tx.get_version("churn", 1) is None
    assert inserted.status is VersionStatus.REGISTERED
    assert (inserted.aliases, inserted.tags) == ((), {})


def test_insert_version_needs_the_model(metadata_store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="unknown model 'credit'"), metadata_store.write() as tx:
        tx.insert_version(version("credit", "a" * 64))


def test_a_digest_appears_once_per_model(metadata_store: MetadataStore) -> None:
    with pytest.raises(ConflictError), metadata_store.write() as tx:
        add_model(tx, "credit", "aa")


def test_aliases_point_at_versions(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        add_model(tx, "credit", "ab")
        tx.set_alias("credit", "champion", 1)
        tx.set_alias("credit", "challenger", 2)
        tx.set_alias("credit", "champion", 2)
    with metadata_store.read() as tx:
        assert tx.get_alias("credit", "champion") == 2
        assert tx.list_aliases("credit") == {"champion": 2, "challenger": 2}
        assert tx.get_version("credit", 2).aliases == ("challenger", "champion")  # type: ignore[union-attr]
        assert tx.get_version("credit", 1).aliases == ()  # type: ignore[union-attr]
    with metadata_store.write() as tx:
        tx.delete_alias("credit", "champion")
        tx.delete_alias("credit", "never-set")
    with metadata_store.read() as tx:
        assert tx.get_alias("credit", "champion") is None
        assert tx.list_aliases("credit") == {"challenger": 2}


@pytest.mark.parametrize(
    "change",
    [
        lambda tx: tx.set_alias("credit", "champion", 9),
        lambda tx: tx.set_tag("credit", 9, "team", "risk"),
        lambda tx: tx.set_status("credit", 9, VersionStatus.VALIDATED),
        lambda tx: tx.set_alias("churn", "champion", 1),
    ],
    ids=["alias", "tag", "status", "other-model"],
)
def test_changes_to_a_missing_version_are_refused(metadata_store: MetadataStore, change) -> None:
    with metadata_store.write() as tx:
        add_model(tx, "credit", "a")
    with pytest.raises(NotFoundError, match="has no version"), metadata_store.write() as tx:
        change(tx)


def test_tags_and_status(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        add_model(tx, "credit", "a")
        tx.set_tag("credit", 1, "team", "risk")
        tx.set_tag("credit", 1, "team", "fraud")
        tx.set_tag("credit", 1, "ticket", "ML-42")
        tx.set_status("credit", 1, VersionStatus.VALIDATED)
    with metadata_store.read() as tx:
        record = tx.get_version("credit", 1)
    assert record is not None
    assert record.tags == {"team": "fraud", "ticket": "ML-42"}
    assert record.status is VersionStatus.VALIDATED
    with metadata_store.write() as tx:
        tx.delete_tag("credit", 1, "team")
        tx.delete_tag("credit", 1, "never-set")
    with metadata_store.read() as tx:
        assert tx.get_version("credit", 1).tags == {"ticket": "ML-42"}  # type: ignore[union-attr]


def test_a_failed_write_leaves_nothing_behind(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        add_model(tx, "credit", "a")
        tx.append_audit(AuditDraft("model.created", "credit", "tester"))
    head = metadata_store.audit_head()

    def write_then_fail() -> None:
        with metadata_store.write() as tx:
            add_model(tx, "churn", "b")
            tx.set_alias("credit", "champion", 1)
            tx.append_audit(AuditDraft("model.created", "churn", "tester"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        write_then_fail()
    with metadata_store.read() as tx:
        assert [m.name for m in tx.list_models()] == ["credit"]
        assert tx.list_aliases("credit") == {}
    assert metadata_store.audit_head() == head
    assert len(list(metadata_store.audit_events())) == 1


def test_a_read_transaction_cannot_write(metadata_store: MetadataStore) -> None:
    with pytest.raises(RuntimeError, match="read transaction"), metadata_store.read() as tx:
        tx.ensure_model("credit", created_at="t")


def test_audit_events_form_a_chain(metadata_store: MetadataStore) -> None:
    data = {"version": 3, "score": 0.25, "name": "crédit ✓", "nested": {"b": [1, None]}}
    with metadata_store.write() as tx:
        first = tx.append_audit(AuditDraft("model.created", "credit", "ana"))
        second = tx.append_audit(AuditDraft("alias.set", "credit@champion", "ana", after=data))
    with metadata_store.write() as tx:
        third = tx.append_audit(AuditDraft("alias.moved", "credit@champion", "bo", before=data))
    events = list(metadata_store.audit_events())
    assert events == [first, second, third]
    assert [e.seq for e in events] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert (events[1].after, events[1].before) == (data, None)
    assert metadata_store.audit_head() == (3, third.hash)
    assert verify_chain(events, head=metadata_store.audit_head()).ok


def test_audit_events_filter_by_subject_prefix_and_seq(metadata_store: MetadataStore) -> None:
    subjects = ["credit_x", "creditx", "credit", "credit:1", "credit@champion", "churn"]
    with metadata_store.write() as tx:
        for subject in subjects:
            tx.append_audit(AuditDraft("thing.happened", subject, "tester"))
    by_prefix = [e.subject for e in metadata_store.audit_events(subject_prefix="credit_")]
    assert by_prefix == ["credit_x"]  # '_' is not a wildcard
    by_prefix = [e.subject for e in metadata_store.audit_events(subject_prefix="credit")]
    assert by_prefix == subjects[:5]
    assert [e.seq for e in metadata_store.audit_events(since_seq=4)] == [5, 6]


def test_concurrent_threads_keep_versions_contiguous(metadata_store: MetadataStore) -> None:
    with metadata_store.write() as tx:
        add_model(tx, "credit")

    def insert(worker: int) -> None:
        for i in range(10):
            with metadata_store.write() as tx:
                record = tx.insert_version(version("credit", f"{worker:032x}{i:032x}"))
                tx.append_audit(AuditDraft("version.registered", str(record.ref), "tester"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(insert, n) for n in range(4)]:
            future.result()
    with metadata_store.read() as tx:
        assert [v.version for v in tx.list_versions("credit")] == list(range(1, 41))
    events = list(metadata_store.audit_events())
    assert verify_chain(events, head=metadata_store.audit_head()).ok


def test_sql_stores_persist_and_migrate_once(sql_url: str) -> None:
    store = open_metadata_store(sql_url)
    with store.write() as tx:
        add_model(tx, "credit", "a")
    store.close()
    reopened = SqlMetadataStore.open(sql_url)
    with reopened.engine.connect() as connection:
        revisions = connection.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}")).all()
    with reopened.read() as tx:
        assert [v.version for v in tx.list_versions("credit")] == [1]
    reopened.close()
    # One row: the newest revision (the head moves as capabilities add tables).
    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()  # one head: linear revisions
    assert revisions == [(head,)]
