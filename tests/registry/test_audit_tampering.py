"""Tampering with the stored audit log, with raw SQL, is caught by ``verify_audit``.

Each case changes the database behind the registry's back and checks that verification names
the first bad event and says what happened to it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tiny_artifact import write_tiny_artifact

from slipway.adapters.factory import open_artifact_store, open_metadata_store
from slipway.core.audit import compute_hash
from slipway.registry.service import Registry

Tamper = Callable[[sa.Connection, Registry], None]


@pytest.fixture
def registry(sql_url: str, tmp_path: Path) -> Iterator[Registry]:
    """Five events: model.created, version.registered x2, alias.set, alias.moved."""
    metadata = open_metadata_store(sql_url)
    artifacts = open_artifact_store(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")
    registry = Registry(metadata, artifacts, actor="ana@laptop")
    for payload in (b"a", b"b"):
        folder = tmp_path / payload.decode()
        registry.register(write_tiny_artifact(folder, payload=payload), folder)
    registry.set_alias("credit", "champion", 1)
    registry.set_alias("credit", "champion", 2)
    yield registry
    metadata.close()


def sql(*statements: str) -> Tamper:
    def tamper(connection: sa.Connection, _registry: Registry) -> None:
        for statement in statements:
            connection.execute(sa.text(statement))

    return tamper


def rewrite_event_2(connection: sa.Connection, registry: Registry) -> None:
    """Edit event 2 and give it a correct hash for its new content."""
    forged = dataclasses.replace(registry.audit_log()[1], actor="mallory")
    connection.execute(
        sa.text("UPDATE audit_events SET actor = :actor, hash = :hash WHERE seq = 2"),
        {"actor": forged.actor, "hash": compute_hash(forged)},
    )


def append_without_head(connection: sa.Connection, registry: Registry) -> None:
    """Add a well-formed event 6 after event 5 but leave the recorded head alone."""
    last = registry.audit_log()[-1]
    forged = dataclasses.replace(last, seq=6, prev_hash=last.hash, subject="credit@prod")
    row = {**forged.to_dict(), "hash": compute_hash(forged)}
    row["before"], row["after"] = json.dumps(row["before"]), json.dumps(row["after"])
    connection.execute(
        sa.text(
            "INSERT INTO audit_events (seq, at, actor, action, subject, before, after, prev_hash,"
            " hash) VALUES (:seq, :at, :actor, :action, :subject, :before, :after, :prev_hash,"
            " :hash)"
        ),
        row,
    )


CASES = {
    "edited-actor": (
        sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"),
        2,
        r"^event 2 was edited",
    ),
    "edited-json": (
        sql("""UPDATE audit_events SET after = '{"version": 1}' WHERE seq = 5"""),
        5,
        r"^event 5 was edited",
    ),
    "edited-time": (
        sql("UPDATE audit_events SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 4"),
        4,
        r"^event 4 was edited",
    ),
    "deleted": (sql("DELETE FROM audit_events WHERE seq = 3"), 3, r"^event 3 is missing"),
    "deleted-first": (sql("DELETE FROM audit_events WHERE seq = 1"), 1, r"^event 1 is missing"),
    "reordered": (
        sql(
            "UPDATE audit_events SET seq = 100 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 100",
        ),
        2,
        r"^event 2 is out of order",
    ),
    "newest-deleted": (
        sql("DELETE FROM audit_events WHERE seq = 5"),
        5,
        r"^event 5 is missing: deleted from the end of the log",
    ),
    "two-newest-deleted": (
        sql("DELETE FROM audit_events WHERE seq >= 4"),
        4,
        r"^events 4 to 5 are missing: deleted from the end of the log",
    ),
    "rewritten-with-hash": (rewrite_event_2, 3, r"^event 3 does not follow event 2"),
    "appended-without-head": (append_without_head, 6, r"recorded head \(event 5\)"),
    "head-moved-back": (
        sql("UPDATE audit_head SET seq = 4"),
        5,
        r"recorded head \(event 4\) does not match event 5",
    ),
    "everything-deleted": (
        sql("DELETE FROM audit_events"),
        1,
        r"^events 1 to 5 are missing",
    ),
}


@pytest.mark.parametrize(("tamper", "first_bad", "problem"), CASES.values(), ids=CASES.keys())
def test_verify_audit_names_the_first_bad_event(
    registry: Registry, sql_url: str, tamper: Tamper, first_bad: int, problem: str
) -> None:
    assert registry.verify_audit().ok
    engine = sa.create_engine(sql_url)
    with engine.begin() as connection:
        tamper(connection, registry)
    engine.dispose()
    report = registry.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == first_bad
    assert report.problem is not None
    assert report.problems[0] == report.problem
    assert re.search(problem, report.problem), report.problem


def test_every_problem_is_listed(registry: Registry, sql_url: str) -> None:
    engine = sa.create_engine(sql_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
        connection.execute(sa.text("DELETE FROM audit_events WHERE seq = 4"))
    engine.dispose()
    report = registry.verify_audit()
    assert report.first_bad_seq == 2
    assert [problem.split(":")[0] for problem in report.problems] == [
        "event 2 was edited",
        "event 4 is missing",
        "event 5 does not follow event 3",
    ]
