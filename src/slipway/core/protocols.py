"""Ports that adapters implement. Capabilities depend on these, never on SQLAlchemy or fsspec."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from slipway.core.audit import AuditDraft, AuditEvent
from slipway.core.batch_run import BatchRunRecord
from slipway.core.degradation import Degradation
from slipway.core.deployment import DeploymentRecord, ExposureRecord, OutcomeRecord, StatsWindow
from slipway.core.records import ModelRecord, ValidationRunRecord, VersionRecord, VersionStatus

if TYPE_CHECKING:
    import pandas as pd


class ArtifactStore(Protocol):
    """Content-addressed storage of artifact folders, keyed by digest.

    ``put`` is idempotent and writes the manifest last, so a folder whose manifest is present is
    complete; readers never see half an artifact.
    """

    @property
    def display_url(self) -> str: ...

    def exists(self, digest: str) -> bool: ...

    def put(self, source: Path, digest: str) -> None: ...

    def fetch(self, digest: str) -> Path:
        """Return a local folder holding the artifact (the store's own on a local disk, else a cache)."""
        ...


class MetadataTransaction(Protocol):
    """One atomic unit of registry work. Writes are serialized across processes and hosts."""

    def get_model(self, name: str) -> ModelRecord | None: ...

    def list_models(self) -> list[ModelRecord]: ...

    def ensure_model(self, name: str, *, created_at: str, description: str = "") -> tuple[ModelRecord, bool]:
        """Return the model, creating it if needed; the flag says whether it was created."""
        ...

    def list_versions(self, name: str) -> list[VersionRecord]: ...

    def get_version(self, name: str, version: int) -> VersionRecord | None: ...

    def find_version_by_digest(self, name: str, digest: str) -> VersionRecord | None: ...

    def insert_version(self, record: VersionRecord) -> VersionRecord:
        """Insert with the next free version number (assigned here, contiguous per model)."""
        ...

    def set_status(self, name: str, version: int, status: VersionStatus) -> None: ...

    def get_alias(self, name: str, alias: str) -> int | None: ...

    def list_aliases(self, name: str) -> dict[str, int]: ...

    def set_alias(self, name: str, alias: str, version: int) -> None: ...

    def delete_alias(self, name: str, alias: str) -> None: ...

    def set_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    def delete_tag(self, name: str, version: int, key: str) -> None: ...

    def append_audit(self, draft: AuditDraft) -> AuditEvent: ...

    def insert_validation_run(self, record: ValidationRunRecord) -> ValidationRunRecord:
        """Store a gate run; the store assigns its id (increasing across all models)."""
        ...

    def list_validation_runs(self, name: str, version: int | None = None) -> list[ValidationRunRecord]:
        """Runs of a model (or of one version), oldest first."""
        ...

    def insert_batch_run(self, record: BatchRunRecord) -> None:
        """Store a finished batch run; a second record with the same run id is a ConflictError."""
        ...

    def get_batch_run(self, run_id: str) -> BatchRunRecord | None: ...

    def list_batch_runs(self, *, model: str | None = None, limit: int | None = None) -> list[BatchRunRecord]:
        """Runs newest first, all or those of ``model``."""
        ...

    def get_deployment(self, name: str) -> DeploymentRecord | None: ...

    def list_deployments(self) -> list[DeploymentRecord]: ...

    def insert_deployment(self, record: DeploymentRecord) -> None:
        """Store a new deployment; a second one with the same name is a ConflictError."""
        ...

    def replace_deployment(self, record: DeploymentRecord, *, expected_generation: int) -> bool:
        """Overwrite the deployment only if its stored generation is ``expected_generation``
        (compare-and-set); return whether it was written."""
        ...

    def insert_stats(self, windows: Sequence[StatsWindow]) -> None: ...

    def list_stats(self, deployment: str, *, since: str | None = None) -> list[StatsWindow]:
        """Windows of ``deployment`` that ended at or after ``since``, oldest first."""
        ...

    def insert_exposures(self, records: Sequence[ExposureRecord]) -> None:
        """Store exposures; a request id already stored is skipped (flushes may be retried)."""
        ...

    def get_exposure(self, request_id: str) -> ExposureRecord | None: ...

    def find_user_exposure(self, deployment: str, user_key: str) -> ExposureRecord | None: ...

    def list_exposures(self, deployment: str) -> list[ExposureRecord]: ...

    def insert_outcome(self, record: OutcomeRecord) -> OutcomeRecord:
        """Store feedback; the store assigns its id."""
        ...

    def list_outcomes(self, deployment: str) -> list[OutcomeRecord]: ...
    def get_degradation(self, name: str) -> Degradation | None: ...

    def list_degradations(self) -> list[Degradation]:
        """Deployments in degraded mode, by name."""
        ...

    def put_degradation(self, record: Degradation) -> None:
        """Store the deployment's degraded state, replacing any earlier one."""
        ...

    def delete_degradation(self, name: str) -> None: ...


class MetadataStore(Protocol):
    @property
    def display_url(self) -> str: ...

    def write(self) -> AbstractContextManager[MetadataTransaction]:
        """A transaction that holds the registry's write lock until it commits or rolls back."""
        ...

    def read(self) -> AbstractContextManager[MetadataTransaction]: ...

    def audit_events(
        self, *, subject_prefix: str | None = None, since_seq: int = 0
    ) -> Iterator[AuditEvent]: ...

    def audit_head(self) -> tuple[int, str] | None: ...

    def close(self) -> None: ...


class TableReader(Protocol):
    """Reads rows of a table from a database named by URL (production windows for the gate)."""

    def read_table(self, url: str, table: str, *, order_by: str | None = None) -> pd.DataFrame: ...
