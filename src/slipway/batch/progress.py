"""Progress of a batch run: a Rich bar with rows, rows/s and time left, or nothing at all."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class ProgressReporter(Protocol):
    def start(self, total_rows: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """Reports nothing (scripts, tests, the Spark engine which has its own console bar)."""

    def start(self, total_rows: int | None) -> None:
        """Nothing to show."""

    def advance(self, rows: int) -> None:
        """Nothing to show."""

    def stop(self) -> None:
        """Nothing to show."""


class RowsPerSecondColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Task) -> Text:
        speed = getattr(task, "speed", None)
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s")


class RichProgress:
    """A progress bar on stderr: rows done of total, rows/s, elapsed and remaining time.

    The total (and so the time left) is known for Parquet inputs, whose footers hold row counts;
    CSV files and queries show rows and speed only.
    """

    def __init__(self, *, console: Console | None = None, description: str = "scoring") -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            RowsPerSecondColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True, highlight=False, emoji=False),
            transient=False,
        )
        self._description = description
        self._task: TaskID | None = None

    def start(self, total_rows: int | None) -> None:
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=total_rows)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)

    def stop(self) -> None:
        self._progress.stop()

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
