"""Safe output: parts are written next to the final place and the whole is renamed in at the end.

While a run works, its parts live in a hidden staging folder beside the output,
``.<output name>.slipway-partial/``, with a journal (``_journal.jsonl``) that lists every part
whose file is complete: a header line with the run's *resume key* (input fingerprint, artifact
digest, chunk size, columns) and run id, then one line per committed part with its row counts
and sha256. Each line is flushed and fsynced before the part counts as committed, so a run
killed at any moment leaves a journal that tells exactly which parts are done.

At the end, the manifest ``_slipway.json`` is written and the folder is renamed to the output
name in one step: the final name holds a whole result or nothing. ``--resume`` reopens a
staging folder whose key matches and skips the parts its journal lists.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from slipway.batch.worker import PartResult
from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.errors import ConflictError, InvalidInputError

JOURNAL = "_journal.jsonl"
MANIFEST = "_slipway.json"
SUFFIX = ".slipway-partial"


def staging_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}{SUFFIX}")


def output_digest(parts: list[PartResult]) -> str:
    """sha256 over the sorted (file name, file sha256) pairs of the output's parts."""
    return sha256_hex(to_canonical_json(sorted([part.file, part.sha256] for part in parts)))


def check_output(output: Path, *, overwrite: bool) -> None:
    """Refuse an output that exists (unless ``overwrite``) or whose folder does not."""
    if output.exists() and not overwrite:
        raise ConflictError(
            f"output {str(output)!r} already exists; choose another output, or pass overwrite=True "
            "(CLI: --overwrite) to replace it when the new result is complete"
        )
    if output.exists() and not output.is_dir():
        raise InvalidInputError(
            f"output {str(output)!r} is a file; batch output is a folder of Parquet parts"
        )
    if not output.parent.is_dir():
        raise InvalidInputError(f"the folder of output {str(output)!r} does not exist; create it first")


class Staging:
    """The staging folder of one run, and its journal of committed parts."""

    def __init__(self, output: Path, folder: Path, run_id: str, parts: dict[int, PartResult]) -> None:
        self.output = output
        self.folder = folder
        self.run_id = run_id
        self.parts = parts
        self.resumed = frozenset(parts)

    @classmethod
    def open(cls, output: Path, *, key: str, run_id: str, resume: bool, overwrite: bool) -> Staging:
        """Start a staging folder, or reopen a matching one when ``resume`` is set."""
        check_output(output, overwrite=overwrite)
        folder = staging_folder(output)
        if folder.exists():
            header, parts = _read_journal(folder)
            if resume and header is not None and header.get("key") == key:
                return cls(output, folder, str(header["run_id"]), _existing(folder, parts))
            if resume and header is not None:
                raise ConflictError(
                    f"cannot resume into {str(output)!r}: the partial run {header.get('run_id')} in "
                    f"{str(folder)!r} scored other input, model or options; rerun without --resume "
                    "to start over (the partial result is then discarded)"
                )
            shutil.rmtree(folder)  # a partial result nobody asked to resume
        folder.mkdir()
        staging = cls(output, folder, run_id, {})
        staging._append({"key": key, "run_id": run_id})
        return staging

    def record(self, part: PartResult) -> None:
        """Mark ``part`` committed: its file is whole, and the journal says so durably."""
        self._append(asdict(part))
        self.parts[part.index] = part

    def commit(self, summary: dict[str, Any]) -> str:
        """Write the manifest, rename the folder to the output name; return the output digest."""
        parts = [self.parts[index] for index in sorted(self.parts)]
        digest = output_digest(parts)
        manifest = {
            **summary,
            "run_id": self.run_id,
            "output_digest": digest,
            "parts": [asdict(p) for p in parts],
        }
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        for leftover in self.folder.glob(".part-*.tmp"):
            leftover.unlink()
        (self.folder / JOURNAL).unlink()
        _fsync_dir(self.folder)
        self._rename_into_place()
        return digest

    def abandon(self) -> None:
        """After a failure: keep committed parts for ``--resume``, or remove a folder without any."""
        if not self.parts:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _rename_into_place(self) -> None:
        if not self.output.exists():
            os.rename(self.folder, self.output)
            return
        # Replacing an output: the old one steps aside, the new one takes its name, the old goes.
        old = self.output.with_name(f".{self.output.name}.slipway-old-{uuid.uuid4().hex[:8]}")
        os.rename(self.output, old)
        os.rename(self.folder, self.output)
        shutil.rmtree(old, ignore_errors=True)

    def _append(self, entry: dict[str, Any]) -> None:
        with (self.folder / JOURNAL).open("a", encoding="utf-8") as journal:
            journal.write(json.dumps(entry, sort_keys=True) + "\n")
            journal.flush()
            os.fsync(journal.fileno())


def _read_journal(folder: Path) -> tuple[dict[str, Any] | None, dict[int, PartResult]]:
    path = folder / JOURNAL
    if not path.is_file():
        return None, {}
    header: dict[str, Any] | None = None
    parts: dict[int, PartResult] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            break  # the line being written when the run was killed: that part is not committed
        if header is None:
            header = entry
        else:
            part = PartResult(**entry)
            parts[part.index] = part
    return header, parts


def _existing(folder: Path, parts: dict[int, PartResult]) -> dict[int, PartResult]:
    """The journal's parts whose file is still there, whole (a changed file is scored again)."""
    return {
        index: part
        for index, part in parts.items()
        if (folder / part.file).is_file() and (folder / part.file).stat().st_size == part.size
    }


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
