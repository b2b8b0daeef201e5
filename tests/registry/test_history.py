"""``alias_at``: which version an alias pointed to at a past moment, replayed from the audit log."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from slipway.core.audit import AuditEvent, parse_time
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.registry.history import alias_at, is_about_model
from slipway.registry.service import Registry

TICK = timedelta(microseconds=1)


def changed(registry: Registry, change) -> datetime:
    """Apply ``change`` and return the time its audit event records; events are 2 ms apart."""
    time.sleep(0.002)
    change()
    return parse_time(registry.audit_log()[-1].at)


def test_alias_at_before_between_and_after_moves(registry: Registry, register) -> None:
    for payload in (b"a", b"b", b"c"):
        register("credit", payload)
    start = changed(registry, lambda: registry.set_alias("credit", "challenger", 3))
    set_at = changed(registry, lambda: registry.set_alias("credit", "champion", 1))
    moved_at = changed(registry, lambda: registry.set_alias("credit", "champion", 2))
    removed_at = changed(registry, lambda: registry.remove_alias("credit", "champion"))
    reset_at = changed(registry, lambda: registry.set_alias("credit", "champion", 3))
    expected = [
        (start, None),  # before the first set
        (set_at - TICK, None),
        (set_at, 1),
        (moved_at - TICK, 1),  # between moves
        (moved_at, 2),
        (removed_at - TICK, 2),
        (removed_at, None),  # after removal
        (reset_at - TICK, None),
        (reset_at + timedelta(days=1), 3),
    ]
    assert [(at, registry.alias_at("credit", "champion", at)) for at, _ in expected] == expected
    assert registry.alias_at("credit", "challenger", set_at) == 3
    assert registry.alias_at("credit", "never-set", reset_at) is None


def test_a_naive_time_is_utc(registry: Registry, register) -> None:
    register("credit", b"a")
    set_at = changed(registry, lambda: registry.set_alias("credit", "champion", 1))
    naive = set_at.astimezone(UTC).replace(tzinfo=None)
    assert registry.alias_at("credit", "champion", naive) == 1
    assert registry.alias_at("credit", "champion", naive - TICK) is None


@pytest.mark.parametrize(
    ("name", "alias", "error", "match"),
    [
        ("credt", "champion", NotFoundError, "unknown model 'credt'"),
        ("../credit", "champion", InvalidInputError, "invalid model name"),
        ("credit", "1", InvalidInputError, "invalid alias '1'"),
    ],
    ids=["unknown-model", "bad-name", "bad-alias"],
)
def test_alias_at_bad_input(
    registry: Registry, register, name: str, alias: str, error: type[Exception], match: str
) -> None:
    register("credit", b"a")
    with pytest.raises(error, match=match):
        registry.alias_at(name, alias, datetime.now(UTC))


def event(seq: int, action: str, at: str, version: int | None = None) -> AuditEvent:
    after = {"version": version} if version is not None else None
    return AuditEvent(seq, at, "ana", action, "credit@champion", None, after, "0" * 64, "0" * 64)


def test_alias_at_replays_events_in_order() -> None:
    events = [
        event(1, "alias.set", "2025-01-01T00:00:00Z", 1),
        event(2, "alias.moved", "2025-01-02T00:00:00Z", 2),
        event(3, "alias.removed", "2025-01-03T00:00:00Z"),
    ]
    at = datetime.fromisoformat
    assert alias_at(events, at("2024-12-31T23:59:59+00:00")) is None
    assert alias_at(events, at("2025-01-01T12:00:00+00:00")) == 1
    assert alias_at(events, at("2025-01-02T01:00:00+01:00")) == 2  # same instant as the move
    assert alias_at(events, at("2025-01-03T00:00:00+00:00")) is None


@pytest.mark.parametrize(
    ("subject", "about"),
    [
        ("credit", True),
        ("credit:3", True),
        ("credit@champion", True),
        ("credit2", False),
        ("credit_eu:1", False),
        ("endpoint-credit", False),
    ],
)
def test_is_about_model(subject: str, about: bool) -> None:
    assert is_about_model(subject, "credit") is about
