"""Printing for the CLI: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def describe_runtime(section: dict[str, Any]) -> str:
    """One line for a manifest's ``runtime`` section: the verified compiled model, or why there is none."""
    parity = section.get("parity") or {}
    if section.get("verified"):
        compiled = section.get("compiled") or {}
        return (
            f"{compiled.get('format')} verified ({compiled.get('converter')}): "
            f"parity on {parity.get('rows')} {parity.get('data')} rows, "
            f"max abs diff {parity.get('max_abs_diff', 0):.3g}, "
            f"{parity.get('max_tolerance_used', 0):.0%} of the tolerance used"
        )
    return f"native only: {section.get('reason')}"
