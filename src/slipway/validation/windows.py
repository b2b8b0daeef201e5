"""Production windows: rows with a time column, cut into consecutive named windows.

``every: 7d`` starting at midnight of the first row's day gives windows named
``production_2026-11-01_to_2026-11-07`` (the last day is inclusive); hours appear in the name
when the step is shorter than a day. Empty windows are left out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

import pandas as pd

from slipway.core.errors import InvalidInputError

_EVERY = re.compile(r"(\d+)\s*([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_every(text: str, *, where: str) -> pd.Timedelta:
    match = _EVERY.fullmatch(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise InvalidInputError(f"{where}: cannot read window length {text!r}; use e.g. 12h, 1d, 7d or 2w")
    return pd.Timedelta(int(match[1]), unit=_UNITS[match[2]])  # type: ignore[arg-type]  # a unit of _UNITS


def to_times(frame: pd.DataFrame, column: str, *, where: str) -> pd.Series:
    if column not in frame.columns:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        raise InvalidInputError(
            f"{where}: time column {column!r} is not in the data;{hint} columns: "
            f"{', '.join(map(str, frame.columns))}"
        )
    try:
        return pd.to_datetime(frame[column], utc=True)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"{where}: time column {column!r} holds values that are not times: {exc}"
        ) from exc


def split_windows(
    frame: pd.DataFrame, *, name: str, time_column: str, every: str | None, where: str
) -> Iterator[tuple[str, pd.Timestamp, pd.Timestamp, pd.DataFrame]]:
    """``(window name, start, end, rows)`` for each non-empty window, in time order."""
    times = to_times(frame, time_column, where=where)
    if times.isna().any():
        row = int(times.isna().to_numpy().nonzero()[0][0])
        raise InvalidInputError(f"{where}: time column {time_column!r} is empty in row {row}")
    if frame.empty:
        return
    first, last = times.min(), times.max()
    step = (
        parse_every(every, where=where)
        if every
        else (last.normalize() - first.normalize() + pd.Timedelta(days=1))
    )
    start = first.normalize()
    fmt = "%Y-%m-%d" if step % pd.Timedelta(days=1) == pd.Timedelta(0) else "%Y-%m-%dT%H"
    while start <= last:
        end = start + step
        inside = ((times >= start) & (times < end)).to_numpy()
        if inside.any():
            label_end = end - (pd.Timedelta(days=1) if fmt == "%Y-%m-%d" else pd.Timedelta(hours=1))
            label = f"{name}_{start.strftime(fmt)}_to_{label_end.strftime(fmt)}"
            yield label, start, end, frame.loc[inside].reset_index(drop=True)
        start = end
