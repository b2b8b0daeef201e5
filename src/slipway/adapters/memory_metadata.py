"""A thread-safe, in-memory ``MetadataStore`` for tests and throwaway sessions (``memory://``).

It behaves like the SQL store, transactions included: a write transaction works on a copy of the
state and publishes it only on commit, so an exception leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from slipway.core.audit import GENESIS_HASH, AuditDraft, AuditEvent, seal
from slipway.core.batch_run import BatchRunRecord
from slipway.core.degradation import Degradation
from slipway.core.deployment import DeploymentRecord, ExposureRecord, OutcomeRecord, StatsWindow
from slipway.core.errors import ConflictError, NotFoundError
from slipway.core.records import ModelRecord, ValidationRunRecord, VersionRecord, VersionStatus


@dataclass
class _State:
    models: dict[str, ModelRecord] = field(default_factory=dict)
    versions: dict[str, dict[int, VersionRecord]] = field(default_factory=dict)
    aliases: dict[str, dict[str, int]] = field(default_factory=dict)
    tags: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    events: list[AuditEvent] = field(default_factory=list)
    head: tuple[int, str] = (0, GENESIS_HASH)
    runs: list[ValidationRunRecord] = field(default_factory=list)
    batch_runs: dict[str, BatchRunRecord] = field(default_factory=dict)
    deployments: dict[str, DeploymentRecord] = field(default_factory=dict)
    stats: list[StatsWindow] = field(default_factory=list)
    exposures: dict[str, ExposureRecord] = field(default_factory=dict)
    outcomes: list[OutcomeRecord] = field(default_factory=list)
    degradations: dict[str, Degradation] = field(default_factory=dict)

    def copy(self) -> _State:
        """A copy whose containers are independent; the records in them are immutable."""
        return _State(
            models=dict(self.models),
            versions={name: dict(numbered) for name, numbered in self.versions.items()},
            aliases={name: dict(named) for name, named in self.aliases.items()},
            tags={key: dict(values) for key, values in self.tags.items()},
            events=list(self.events),
            head=self.head,
            runs=list(self.runs),
            batch_runs=dict(self.batch_runs),
            deployments=dict(self.deployments),
            stats=list(self.stats),
            exposures=dict(self.exposures),
            outcomes=list(self.outcomes),
            degradations=dict(self.degradations),
        )


class InMemoryMetadataStore:
    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()

    @property
    def display_url(self) -> str:
        return "memory://"

    @contextmanager
    def write(self) -> Iterator[InMemoryTransaction]:
        with self._lock:
            draft = self._state.copy()
            yield InMemoryTransaction(draft, writable=True)
            self._state = draft

    @contextmanager
    def read(self) -> Iterator[InMemoryTransaction]:
        with self._lock:
            yield InMemoryTransaction(self._state, writable=False)

    def audit_events(self, *, subject_prefix: str | None = None, since_seq: int = 0) -> Iterator[AuditEvent]:
        with self._lock:
            events = list(self._state.events)
        prefix = subject_prefix or ""
        return iter([e for e in events if e.seq > since_seq and e.subject.startswith(prefix)])

    def audit_head(self) -> tuple[int, str] | None:
        with self._lock:
            head = self._state.head
        return head if head[0] else None

    def close(self) -> None:
        """Nothing to release; the state lives as long as the object."""


class InMemoryTransaction:
    def __init__(self, state: _State, *, writable: bool) -> None:
        self._state = state
        self._writable = writable

    def get_model(self, name: str) -> ModelRecord | None:
        model = self._state.models.get(name)
        if model is None:
            return None
        latest = max(self._state.versions.get(name, {}), default=None)
        return dataclasses.replace(model, latest_version=latest)

    def list_models(self) -> list[ModelRecord]:
        return [self._model(name) for name in sorted(self._state.models)]

    def ensure_model(self, name: str, *, created_at: str, description: str = "") -> tuple[ModelRecord, bool]:
        found = self.get_model(name)
        if found is not None:
            return found, False
        self._check_writable()
        model = ModelRecord(name=name, created_at=created_at, description=description)
        self._state.models[name] = model
        return model, True

    def list_versions(self, name: str) -> list[VersionRecord]:
        numbers = sorted(self._state.versions.get(name, {}))
        return [self._version(name, number) for number in numbers]

    def get_version(self, name: str, version: int) -> VersionRecord | None:
        if version not in self._state.versions.get(name, {}):
            return None
        return self._version(name, version)

    def find_version_by_digest(self, name: str, digest: str) -> VersionRecord | None:
        for number, record in self._state.versions.get(name, {}).items():
            if record.digest == digest:
                return self._version(name, number)
        return None

    def insert_version(self, record: VersionRecord) -> VersionRecord:
        self._check_writable()
        if record.name not in self._state.models:
            raise NotFoundError(f"unknown model {record.name!r}")
        if self.find_version_by_digest(record.name, record.digest) is not None:
            raise ConflictError(f"model {record.name!r} already has a version {record.digest}")
        numbered = self._state.versions.setdefault(record.name, {})
        stored = dataclasses.replace(record, version=max(numbered, default=0) + 1, aliases=(), tags={})
        numbered[stored.version] = stored
        return stored

    def set_status(self, name: str, version: int, status: VersionStatus) -> None:
        record = self._require_version(name, version)
        self._state.versions[name][version] = dataclasses.replace(record, status=status)

    def get_alias(self, name: str, alias: str) -> int | None:
        return self._state.aliases.get(name, {}).get(alias)

    def list_aliases(self, name: str) -> dict[str, int]:
        return dict(self._state.aliases.get(name, {}))

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self._require_version(name, version)
        self._state.aliases.setdefault(name, {})[alias] = version

    def delete_alias(self, name: str, alias: str) -> None:
        self._check_writable()
        self._state.aliases.get(name, {}).pop(alias, None)

    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._require_version(name, version)
        self._state.tags.setdefault((name, version), {})[key] = value

    def delete_tag(self, name: str, version: int, key: str) -> None:
        self._check_writable()
        self._state.tags.get((name, version), {}).pop(key, None)

    def append_audit(self, draft: AuditDraft) -> AuditEvent:
        self._check_writable()
        seq, prev_hash = self._state.head
        event = seal(draft, seq=seq + 1, prev_hash=prev_hash)
        self._state.events.append(event)
        self._state.head = (event.seq, event.hash)
        return event

    def insert_validation_run(self, record: ValidationRunRecord) -> ValidationRunRecord:
        self._require_version(record.name, record.version)
        stored = dataclasses.replace(record, id=len(self._state.runs) + 1)
        self._state.runs.append(stored)
        return stored

    def list_validation_runs(self, name: str, version: int | None = None) -> list[ValidationRunRecord]:
        return [
            run
            for run in self._state.runs
            if run.name == name and (version is None or run.version == version)
        ]

    def insert_batch_run(self, record: BatchRunRecord) -> None:
        self._check_writable()
        if record.run_id in self._state.batch_runs:
            raise ConflictError(f"batch run {record.run_id!r} is already recorded")
        self._state.batch_runs[record.run_id] = record

    def get_batch_run(self, run_id: str) -> BatchRunRecord | None:
        return self._state.batch_runs.get(run_id)

    def list_batch_runs(self, *, model: str | None = None, limit: int | None = None) -> list[BatchRunRecord]:
        runs = [r for r in self._state.batch_runs.values() if model is None or r.model == model]
        runs.sort(key=lambda r: (r.finished_at, r.run_id), reverse=True)
        return runs if limit is None else runs[:limit]

    def get_deployment(self, name: str) -> DeploymentRecord | None:
        return self._state.deployments.get(name)

    def list_deployments(self) -> list[DeploymentRecord]:
        return [self._state.deployments[name] for name in sorted(self._state.deployments)]

    def insert_deployment(self, record: DeploymentRecord) -> None:
        self._check_writable()
        if record.name in self._state.deployments:
            raise ConflictError(f"deployment {record.name!r} already exists")
        self._state.deployments[record.name] = record

    def replace_deployment(self, record: DeploymentRecord, *, expected_generation: int) -> bool:
        self._check_writable()
        current = self._state.deployments.get(record.name)
        if current is None or current.generation != expected_generation:
            return False
        self._state.deployments[record.name] = record
        return True

    def insert_stats(self, windows: Sequence[StatsWindow]) -> None:
        self._check_writable()
        self._state.stats.extend(windows)

    def list_stats(self, deployment: str, *, since: str | None = None) -> list[StatsWindow]:
        return [
            w
            for w in self._state.stats
            if w.deployment == deployment and (since is None or w.window_end >= since)
        ]

    def insert_exposures(self, records: Sequence[ExposureRecord]) -> None:
        self._check_writable()
        for record in records:
            self._state.exposures.setdefault(record.request_id, record)

    def get_exposure(self, request_id: str) -> ExposureRecord | None:
        return self._state.exposures.get(request_id)

    def find_user_exposure(self, deployment: str, user_key: str) -> ExposureRecord | None:
        for record in self._state.exposures.values():
            if record.deployment == deployment and record.user_key == user_key:
                return record
        return None

    def list_exposures(self, deployment: str) -> list[ExposureRecord]:
        found = [e for e in self._state.exposures.values() if e.deployment == deployment]
        return sorted(found, key=lambda e: e.at)

    def insert_outcome(self, record: OutcomeRecord) -> OutcomeRecord:
        self._check_writable()
        stored = dataclasses.replace(record, id=len(self._state.outcomes) + 1)
        self._state.outcomes.append(stored)
        return stored

    def list_outcomes(self, deployment: str) -> list[OutcomeRecord]:
        return [o for o in self._state.outcomes if o.deployment == deployment]

    def get_degradation(self, name: str) -> Degradation | None:
        return self._state.degradations.get(name)

    def list_degradations(self) -> list[Degradation]:
        return [self._state.degradations[name] for name in sorted(self._state.degradations)]

    def put_degradation(self, record: Degradation) -> None:
        self._check_writable()
        self._state.degradations[record.name] = record

    def delete_degradation(self, name: str) -> None:
        self._check_writable()
        self._state.degradations.pop(name, None)

    def _model(self, name: str) -> ModelRecord:
        found = self.get_model(name)
        if found is None:
            raise NotFoundError(f"unknown model {name!r}")
        return found

    def _version(self, name: str, version: int) -> VersionRecord:
        record = self._state.versions[name][version]
        aliases = sorted(a for a, v in self._state.aliases.get(name, {}).items() if v == version)
        tags = dict(sorted(self._state.tags.get((name, version), {}).items()))
        return dataclasses.replace(record, aliases=tuple(aliases), tags=tags)

    def _require_version(self, name: str, version: int) -> VersionRecord:
        self._check_writable()
        record = self._state.versions.get(name, {}).get(version)
        if record is None:
            raise NotFoundError(f"model {name!r} has no version {version}")
        return record

    def _check_writable(self) -> None:
        if not self._writable:
            raise RuntimeError("a read transaction cannot change the registry; use store.write()")
