"""The pure hash chain; tampering in real databases is tested in tests/registry."""

import dataclasses

from slipway.core.audit import GENESIS_HASH, AuditDraft, seal, verify_chain


def chain(length):
    events, previous = [], GENESIS_HASH
    for seq in range(1, length + 1):
        event = seal(
            AuditDraft(action="tag.set", subject=f"m:{seq}", actor="a", after={"n": seq}),
            seq=seq,
            prev_hash=previous,
        )
        events.append(event)
        previous = event.hash
    return events


def test_an_intact_chain_verifies():
    events = chain(5)
    report = verify_chain(events, head=(5, events[-1].hash))
    assert report.ok and report.checked == 5


def test_an_edited_event_is_named():
    events = chain(5)
    events[2] = dataclasses.replace(events[2], actor="mallory")
    report = verify_chain(events, head=(5, events[-1].hash))
    assert report.first_bad_seq == 3 and "edited" in report.problem


def test_a_deleted_event_is_named():
    events = chain(5)
    del events[1]
    report = verify_chain(events, head=(5, events[-1].hash))
    assert report.first_bad_seq == 2 and "missing" in report.problem


def test_swapped_events_are_out_of_order():
    events = chain(5)
    third, fourth = events[2], events[3]
    events[2] = dataclasses.replace(fourth, seq=3)
    events[3] = dataclasses.replace(third, seq=4)
    report = verify_chain(events, head=(5, events[-1].hash))
    assert report.first_bad_seq == 3 and "out of order" in report.problem


def test_deleting_the_newest_events_is_caught_by_the_head():
    events = chain(5)
    report = verify_chain(events[:3], head=(5, events[-1].hash))
    assert report.first_bad_seq == 4 and "deleted from the end" in report.problem
