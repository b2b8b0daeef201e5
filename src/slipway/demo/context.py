"""State shared by the demo's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from slipway.api import Slipway


@dataclass
class DemoContext:
    home: Path
    slipway: Slipway
    console: Console
    data_dir: Path
    #: What stages hand to later stages: frames, built artifacts, registered versions.
    state: dict[str, Any] = field(default_factory=dict)

    def heading(self, text: str) -> None:
        self.console.rule(f"[bold]{text}")

    def table(self, columns: list[str], rows: list[tuple[Any, ...]], *, title: str | None = None) -> None:
        table = Table(title=title, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("-" if cell is None else str(cell) for cell in row))
        self.console.print(table)
