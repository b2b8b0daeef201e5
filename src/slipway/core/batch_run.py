"""The record of one batch scoring run, as the registry keeps it.

A run is stored once, when it ends: ``completed`` with its counts and output digest, or
``failed`` with the error. ``input_fingerprint`` identifies what was scored (the sha256 of the
input files' content, or of the query text for a SQL source); ``output_digest`` is the sha256
over the committed part files' hashes, so the output can be checked later byte for byte.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class BatchRunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BatchRunRecord:
    run_id: str
    model: str
    version: int | None  # None when an artifact folder that is not registered was scored
    digest: str
    engine: str
    status: BatchRunStatus
    input: str  # where the rows came from, with any password hidden
    input_fingerprint: str
    output: str
    started_at: str
    finished_at: str
    duration_s: float
    rows_in: int = 0
    rows_out: int = 0
    rows_flagged: int = 0
    rows_rejected: int = 0
    output_digest: str | None = None
    error: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """The audit subject: the model version scored (or the model, for an unregistered artifact)."""
        return self.model if self.version is None else f"{self.model}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = str(self.status)
        return data
