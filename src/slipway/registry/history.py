"""Reading the audit log: event subjects, and the state of an alias at a past moment.

Subjects name what an event is about: ``credit`` (the model), ``credit:3`` (a version) and
``credit@champion`` (an alias). The audit log is the source of truth for history; the tables
only hold the present.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from slipway.core.audit import AuditEvent, parse_time

ALIAS_SET = "alias.set"
ALIAS_MOVED = "alias.moved"
ALIAS_REMOVED = "alias.removed"


def version_subject(name: str, version: int) -> str:
    return f"{name}:{version}"


def alias_subject(name: str, alias: str) -> str:
    return f"{name}@{alias}"


def is_about_model(subject: str, name: str) -> bool:
    """Whether ``subject`` is the model ``name``, one of its versions or one of its aliases."""
    return subject == name or subject.startswith((f"{name}:", f"{name}@"))


def alias_at(events: Iterable[AuditEvent], at: datetime) -> int | None:
    """The version an alias pointed to at ``at``, replaying its events in order (None: unset).

    ``events`` are the alias's own events in sequence order; a naive ``at`` is taken as UTC.
    """
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    version: int | None = None
    for event in events:
        if parse_time(event.at) > moment:
            break
        if event.action in (ALIAS_SET, ALIAS_MOVED) and event.after is not None:
            version = int(event.after["version"])
        elif event.action == ALIAS_REMOVED:
            version = None
    return version
