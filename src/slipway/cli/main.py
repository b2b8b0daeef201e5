"""The ``slipway`` command. Every command is one call into ``slipway.api``; errors become one line
on stderr and an exit code from ``slipway.cli.errors``, never a traceback for a user mistake."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.markup import escape

from slipway._version import __version__
from slipway.cli import (
    audit_commands,
    batch_commands,
    build_commands,
    demo_commands,
    guard_commands,
    registry_commands,
    rollout_commands,
    serve_commands,
    validate_commands,
)
from slipway.cli.context import CliState
from slipway.cli.errors import exit_code_for
from slipway.cli.output import errors
from slipway.core.errors import SlipwayError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="slipway")
@click.option(
    "--home", type=click.Path(path_type=Path), envvar="SLIPWAY_HOME", help="State folder [./.slipway]."
)
@click.option("--registry-url", envvar="SLIPWAY_REGISTRY_URL", help="Registry database URL [sqlite in HOME].")
@click.option(
    "--store-url", envvar="SLIPWAY_STORE_URL", help="Artifact store URL or folder [HOME/artifacts]."
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None, registry_url: str | None, store_url: str | None) -> None:
    """slipway: package, register, validate, serve and release ML models safely."""
    state = ctx.ensure_object(CliState)
    state.home, state.registry_url, state.store_url = home, registry_url, store_url
    ctx.call_on_close(state.close)


for module in (
    build_commands,
    registry_commands,
    validate_commands,
    batch_commands,
    serve_commands,
    audit_commands,
    rollout_commands,
    guard_commands,
    demo_commands,
):
    module.install(cli)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, map errors to exit codes, print one line per error."""
    try:
        cli.main(args=argv, prog_name="slipway", standalone_mode=False)
    except SlipwayError as error:
        errors.print(f"[bold red]error:[/] {escape(str(error))}", markup=True)
        return exit_code_for(error)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        errors.print("aborted")
        return 130
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130
    except Exception as error:
        if os.environ.get("SLIPWAY_DEBUG"):
            raise
        errors.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {escape(str(error))} "
            "(set SLIPWAY_DEBUG=1 for the traceback, and please report it)",
            markup=True,
        )
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
