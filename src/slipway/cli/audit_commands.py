"""Audit trail commands: ``audit log``, ``audit verify``, ``history``."""

from __future__ import annotations

import json

import click

from slipway.cli.context import slipway
from slipway.cli.output import console, print_json, print_table
from slipway.core.errors import IntegrityError


@click.group("audit")
def audit() -> None:
    """Read and verify the tamper-evident audit trail."""


def _change(before: object, after: object) -> str:
    def show(value: object) -> str:
        return "-" if value is None else json.dumps(value, sort_keys=True, default=str)

    return f"{show(before)} -> {show(after)}"


@audit.command("log")
@click.argument("model", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per event).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N events.")
def audit_log(model: str | None, as_json: bool, limit: int | None) -> None:
    """Show the audit events, all or those of MODEL."""
    events = slipway().audit_log(model)
    if limit is not None:
        events = events[-limit:]
    if as_json:
        print_json([event.to_dict() for event in events])
        return
    print_table(
        "audit trail" + (f" of {model}" if model else ""),
        ["seq", "at", "actor", "action", "subject", "change"],
        [(e.seq, e.at, e.actor, e.action, e.subject, _change(e.before, e.after)) for e in events],
    )


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain: any edited, deleted or reordered event is named."""
    report = slipway().verify_audit()
    if not report.ok:
        details = "; ".join(report.problems[1:4])
        raise IntegrityError(
            f"audit trail is broken at event {report.first_bad_seq}: {report.problem}"
            + (f" (also: {details})" if details else "")
        )
    console.print(f"ok  {report.checked} events, head {report.head_seq} {report.head_hash}")


@click.command("history")
@click.argument("ref", metavar="NAME@ALIAS")
@click.option("--at", "at", required=True, help="ISO 8601 time, e.g. 2026-11-27T18:00:00Z.")
def history(ref: str, at: str) -> None:
    """Which version NAME@ALIAS pointed to at a given time."""
    version = slipway().history(ref, at=at)
    name = ref.partition("@")[0]
    console.print(f"{ref} at {at}: " + (f"{name}:{version}" if version is not None else "(not set)"))


def install(cli: click.Group) -> None:
    cli.add_command(audit)
    cli.add_command(history)
