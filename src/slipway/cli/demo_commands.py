"""``slipway demo``: the end-to-end demo on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import click

from slipway.cli.output import console


@click.command("demo")
@click.option(
    "--dir",
    "home",
    type=click.Path(path_type=Path),
    default=Path("slipway-demo"),
    show_default=True,
    help="Folder for the demo's registry, artifacts and data (wiped first).",
)
def demo(home: Path) -> None:
    """Run the whole life cycle on the two example models."""
    from slipway.demo.runner import run_demo

    run_demo(home, console=console)


def install(cli: click.Group) -> None:
    cli.add_command(demo)
