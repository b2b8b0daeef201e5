"""The audit trail as a hash chain: pure sealing and verification, no storage.

Each event's hash covers its content and the hash of the event before it, so editing, deleting
or reordering stored events breaks the chain at a point ``verify_chain`` can name. The store keeps
a separate *head* (last sequence number and hash) so deleting the newest events is caught too.
Appending a forged event and rewriting the head is not detectable from inside the database;
anchor the head printed by ``slipway audit verify`` somewhere else if that matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slipway.core.canonical import sha256_hex, to_canonical_json

GENESIS_HASH = "0" * 64


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without zone is taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An event before the store gives it a place in the chain."""

    action: str
    subject: str
    actor: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    prev_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        return _content(
            self.at, self.actor, self.action, self.subject, self.before, self.after, self.prev_hash
        )

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, **self.content(), "hash": self.hash}


def _content(
    at: str,
    actor: str,
    action: str,
    subject: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "before": dict(before) if before is not None else None,
        "after": dict(after) if after is not None else None,
        "prev_hash": prev_hash,
    }


def seal(draft: AuditDraft, *, seq: int, prev_hash: str, at: str | None = None) -> AuditEvent:
    """Give ``draft`` its place after the event whose hash is ``prev_hash``."""
    at = at or utc_now_iso()
    content = _content(at, draft.actor, draft.action, draft.subject, draft.before, draft.after, prev_hash)
    return AuditEvent(seq=seq, hash=sha256_hex(to_canonical_json(content)), **content)


def compute_hash(event: AuditEvent) -> str:
    return sha256_hex(to_canonical_json(event.content()))


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    head_seq: int | None
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and self.problem is None


def verify_chain(events: Iterable[AuditEvent], *, head: tuple[int, str] | None) -> ChainReport:
    """Walk ``events`` in sequence order and report the first place the chain is broken.

    ``head`` is the (seq, hash) the store recorded for its newest event, or None for an empty log.
    """
    ordered = list(events)
    known = {event.hash: event.seq for event in ordered}
    problems: list[tuple[int, str]] = []
    prev_hash, expected_seq = GENESIS_HASH, 1
    for event in ordered:
        if event.seq != expected_seq:
            problems.append((expected_seq, f"event {expected_seq} is missing: deleted from the log"))
        if compute_hash(event) != event.hash:
            problems.append(
                (event.seq, f"event {event.seq} was edited: its content no longer matches its hash")
            )
        elif event.prev_hash != prev_hash:
            if event.prev_hash in known and known[event.prev_hash] != event.seq - 1:
                problems.append(
                    (
                        event.seq,
                        f"event {event.seq} is out of order: "
                        f"it was written after event {known[event.prev_hash]}",
                    )
                )
            else:
                before = f"event {expected_seq - 1}" if expected_seq > 1 else "the start of the log"
                problems.append(
                    (
                        event.seq,
                        f"event {event.seq} does not follow {before}: "
                        "an event was rewritten, deleted or inserted",
                    )
                )
        prev_hash, expected_seq = event.hash, event.seq + 1
    last_seq = ordered[-1].seq if ordered else None
    if head is not None and (head[0] != last_seq or head[1] != prev_hash):
        if last_seq is None or head[0] > last_seq:
            first = (last_seq or 0) + 1
            missing = f"event {first} is" if first == head[0] else f"events {first} to {head[0]} are"
            problems.append((first, f"{missing} missing: deleted from the end of the log"))
        else:
            problems.append(
                (last_seq, f"the recorded head (event {head[0]}) does not match event {last_seq}")
            )
    elif head is None and ordered:
        problems.append((ordered[0].seq, "the log has events but no recorded head"))
    problems.sort(key=lambda item: item[0])
    first_bad = problems[0] if problems else None
    return ChainReport(
        checked=len(ordered),
        head_seq=last_seq,
        head_hash=prev_hash,
        first_bad_seq=first_bad[0] if first_bad else None,
        problem=first_bad[1] if first_bad else None,
        problems=tuple(message for _, message in problems),
    )
