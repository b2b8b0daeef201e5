"""Degraded mode commands: ``degrade``, ``restore``, ``degraded``."""

from __future__ import annotations

import click

from slipway.cli.context import slipway
from slipway.cli.output import console, print_json, print_table
from slipway.core.degradation import MODES


@click.command("degrade")
@click.argument("name")
@click.option("--mode", type=click.Choice(MODES), required=True, help="warn, fallback or refuse.")
@click.option("--reason", required=True, help="Why: every response repeats it, the audit trail records it.")
def degrade(name: str, mode: str, reason: str) -> None:
    """Put deployment NAME (a model name when it has no deployment) in degraded mode."""
    record = slipway().degrade(name, mode, reason=reason)
    console.print(f"{record.name} degraded ({record.mode}) since {record.since}: {record.reason}")


@click.command("restore")
@click.argument("name")
@click.option("--reason", help="Why the deployment is back to normal (recorded in the audit trail).")
def restore(name: str, reason: str | None) -> None:
    """Take deployment NAME out of degraded mode."""
    ended = slipway().restore(name, reason=reason)
    console.print(f"{ended.name} restored (was {ended.mode} since {ended.since})")


@click.command("degraded")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def degraded(as_json: bool) -> None:
    """List the deployments in degraded mode."""
    records = slipway().degradations()
    if as_json:
        print_json([record.to_dict() for record in records])
        return
    print_table(
        "degraded deployments",
        ["name", "mode", "since", "actor", "reason", "rule"],
        [(r.name, r.mode, r.since, r.actor, r.reason, "yes" if r.rule else "") for r in records],
    )


def install(cli: click.Group) -> None:
    for command in (degrade, restore, degraded):
        cli.add_command(command)
