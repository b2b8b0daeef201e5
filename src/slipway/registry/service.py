"""The registry: models, their numbered versions, aliases, tags, statuses, and the audit trail.

``Registry`` composes a ``MetadataStore`` (where the records and the audit chain live), an
``ArtifactStore`` (where the artifact folders live) and the actor its changes are recorded
under. Every change of state is one write transaction that also appends its audit event, so the
records and the log never disagree; a request that changes nothing writes no event.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from slipway.core.audit import AuditDraft, AuditEvent, ChainReport, utc_now_iso, verify_chain
from slipway.core.batch_run import BatchRunRecord, BatchRunStatus
from slipway.core.canonical import to_canonical_json
from slipway.core.degradation import Degradation, check_mode, check_reason
from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError
from slipway.core.manifest import Manifest
from slipway.core.protocols import ArtifactStore, MetadataStore, MetadataTransaction
from slipway.core.records import ModelRecord, ValidationRunRecord, VersionRecord, VersionStatus
from slipway.core.refs import ModelRef, check_alias, check_name, parse_ref
from slipway.registry import history
from slipway.registry.lookup import missing_alias, missing_model, missing_tag, missing_version

_ACTION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_TAG_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]{0,99}")
_MAX_TAG_VALUE = 1000
_MAX_SUBJECT = 200
DEGRADED = "deployment.degraded"
RESTORED = "deployment.restored"
_SNAPSHOT_ATTEMPTS = 5
VALIDATION_PASSED = "validation.passed"
VALIDATION_FAILED = "validation.failed"
_LISTED_FAILURES = 10
# What the audit event of a batch run repeats from its record (the rest is in the run's row).
_BATCH_AUDITED = (
    "run_id",
    "digest",
    "engine",
    "input",
    "input_fingerprint",
    "output",
    "output_digest",
    "rows_in",
    "rows_out",
    "rows_flagged",
    "rows_rejected",
    "duration_s",
    "error",
)


class Registry:
    """Register, find, alias, tag and audit model versions.

    >>> registry = Registry(metadata, artifacts, actor="ana@laptop")
    >>> record, created = registry.register(manifest, Path("build/credit"))
    >>> registry.set_alias("credit", "champion", record.version, reason="beat v2 on AUC")
    """

    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore, *, actor: str) -> None:
        self.metadata = metadata
        self.artifacts = artifacts
        self.actor = actor

    # versions

    def register(
        self, manifest: Manifest, source: Path, *, name: str | None = None
    ) -> tuple[VersionRecord, bool]:
        """Store the verified artifact at ``source`` and record it as the model's next version.

        Registering a digest the model already has returns that version and ``False``.
        """
        name = manifest.name if name is None else name
        check_name(name)
        digest = manifest.digest
        self.artifacts.put(source, digest)
        with self.metadata.write() as tx:
            now = utc_now_iso()
            if tx.ensure_model(name, created_at=now)[1]:
                self._append(tx, "model.created", name, after={"name": name})
            existing = tx.find_version_by_digest(name, digest)
            if existing is not None:
                return existing, False
            record = tx.insert_version(
                VersionRecord(
                    name=name,
                    version=0,  # the store assigns the next number
                    digest=digest,
                    status=VersionStatus.REGISTERED,
                    created_at=now,
                    created_by=self.actor,
                    flavor=manifest.model.flavor,
                    task=manifest.model.task,
                )
            )
            after = {
                "version": record.version,
                "digest": digest,
                "flavor": record.flavor,
                "task": record.task,
                "trusted_pickle": manifest.model.trusted_pickle,
            }
            self._append(tx, "version.registered", str(record.ref), after=after)
        return record, True

    def get_model(self, name: str) -> ModelRecord:
        check_name(name)
        with self.metadata.read() as tx:
            return _require_model(tx, name)

    def list_models(self) -> list[ModelRecord]:
        with self.metadata.read() as tx:
            return tx.list_models()

    def list_versions(self, name: str) -> list[VersionRecord]:
        check_name(name)
        with self.metadata.read() as tx:
            _require_model(tx, name)
            return tx.list_versions(name)

    def resolve(self, ref: ModelRef | str) -> VersionRecord:
        """The version ``ref`` (``name:version`` or ``name@alias``) points to now."""
        with self.metadata.read() as tx:
            return _resolve(tx, ref)

    def artifact_path(self, record: VersionRecord) -> Path:
        """A local folder holding the version's artifact."""
        return self.artifacts.fetch(record.digest)

    def set_status(
        self, ref: ModelRef | str, status: VersionStatus | str, *, reason: str | None = None
    ) -> VersionRecord:
        new = _parse_status(status)
        with self.metadata.write() as tx:
            record = _resolve(tx, ref)
            if record.status == new:
                return record
            tx.set_status(record.name, record.version, new)
            before, after = {"status": str(record.status)}, _with_reason({"status": str(new)}, reason)
            self._append(tx, "status.changed", str(record.ref), before=before, after=after)
            return _fetch(tx, record.name, record.version)

    # validation runs

    def record_validation(
        self, run: ValidationRunRecord, *, failed: list[str] | None = None
    ) -> ValidationRunRecord:
        """Store a gate run, set the version's status (validated/rejected) and audit both at once.

        ``failed`` names the failed expectations (``scenario::expectation``) for the audit event.
        An archived version keeps its status; the run is still recorded.
        """
        with self.metadata.write() as tx:
            record = _resolve(tx, ModelRef(run.name, version=run.version))
            if record.digest != run.digest:
                raise ConflictError(
                    f"{record.ref} is artifact {record.digest[:12]}, but the gate ran on {run.digest[:12]}: "
                    "validate the registered version (NAME:VERSION), not another build"
                )
            stored = tx.insert_validation_run(dataclasses.replace(run, actor=self.actor))
            status = VersionStatus.VALIDATED if run.passed else VersionStatus.REJECTED
            if record.status is not VersionStatus.ARCHIVED and record.status != status:
                tx.set_status(record.name, record.version, status)
            else:
                status = record.status
            listed = list(failed or ())
            after: dict[str, Any] = {
                "run": stored.id,
                "verdict": run.verdict,
                "digest": run.digest,
                "plan_digest": run.plan_digest,
                "status": str(status),
                "failures": len(listed),
                "failed": listed[:_LISTED_FAILURES],
            }
            action = VALIDATION_PASSED if run.passed else VALIDATION_FAILED
            self._append(tx, action, str(record.ref), before={"status": str(record.status)}, after=after)
        return stored

    def validation_runs(self, ref: ModelRef | str) -> list[ValidationRunRecord]:
        """The gate runs of the version ``ref`` points to, oldest first."""
        with self.metadata.read() as tx:
            record = _resolve(tx, ref)
            return tx.list_validation_runs(record.name, record.version)

    def latest_validation(self, name: str, version: int) -> ValidationRunRecord | None:
        with self.metadata.read() as tx:
            runs = tx.list_validation_runs(name, version)
        return runs[-1] if runs else None

    # aliases

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> VersionRecord:
        """Point ``name@alias`` at ``version`` (creating or moving the alias).

        ``details`` are recorded in the audit event with the new version (e.g. a forced move
        past the gate, and why).
        """
        check_alias(alias)
        _check_version_number(version)
        with self.metadata.write() as tx:
            record = _resolve(tx, ModelRef(name, version=version))
            current = tx.get_alias(name, alias)
            if current == version:
                return record
            tx.set_alias(name, alias, version)
            action = history.ALIAS_SET if current is None else history.ALIAS_MOVED
            before = None if current is None else {"version": current}
            after = _with_reason({"version": version, **(details or {})}, reason)
            self._append(tx, action, history.alias_subject(name, alias), before=before, after=after)
            return _fetch(tx, name, version)

    def remove_alias(self, name: str, alias: str, *, reason: str | None = None) -> int:
        """Remove ``name@alias``; return the version it pointed to."""
        check_alias(alias)
        with self.metadata.write() as tx:
            version = _resolve(tx, ModelRef(name, alias=alias)).version
            tx.delete_alias(name, alias)
            subject, after = history.alias_subject(name, alias), _with_reason({}, reason) or None
            self._append(tx, history.ALIAS_REMOVED, subject, before={"version": version}, after=after)
        return version

    def alias_at(self, name: str, alias: str, at: datetime) -> int | None:
        """The version ``name@alias`` pointed to at ``at`` (None if unset then), from the audit log."""
        check_name(name)
        check_alias(alias)
        self.get_model(name)
        subject = history.alias_subject(name, alias)
        events = self.metadata.audit_events(subject_prefix=subject)
        return history.alias_at((e for e in events if e.subject == subject), at)

    # tags

    def set_tag(self, ref: ModelRef | str, key: str, value: str) -> VersionRecord:
        _check_tag(key, value)
        with self.metadata.write() as tx:
            record = _resolve(tx, ref)
            current = record.tags.get(key)
            if current == value:
                return record
            tx.set_tag(record.name, record.version, key, value)
            before = None if current is None else {"key": key, "value": current}
            after = {"key": key, "value": value}
            self._append(tx, "tag.set", str(record.ref), before=before, after=after)
            return _fetch(tx, record.name, record.version)

    def remove_tag(self, ref: ModelRef | str, key: str) -> VersionRecord:
        with self.metadata.write() as tx:
            record = _resolve(tx, ref)
            if key not in record.tags:
                raise NotFoundError(missing_tag(str(record.ref), key, record.tags))
            tx.delete_tag(record.name, record.version, key)
            before = {"key": key, "value": record.tags[key]}
            self._append(tx, "tag.removed", str(record.ref), before=before)
            return _fetch(tx, record.name, record.version)

    # batch runs

    def record_batch_run(self, record: BatchRunRecord) -> AuditEvent:
        """Store a finished batch run and audit it (``batch.completed`` / ``batch.failed``) at once."""
        check_name(record.model)
        action = "batch.completed" if record.status == BatchRunStatus.COMPLETED else "batch.failed"
        after = {
            key: value
            for key, value in record.to_dict().items()
            if key in _BATCH_AUDITED and value is not None
        }
        with self.metadata.write() as tx:
            tx.insert_batch_run(record)
            return self._append(tx, action, record.subject, after=after)

    def batch_run(self, run_id: str) -> BatchRunRecord:
        with self.metadata.read() as tx:
            record = tx.get_batch_run(run_id)
        if record is None:
            raise NotFoundError(f"no batch run {run_id!r}; `slipway runs` lists the recorded runs")
        return record

    def batch_runs(self, *, model: str | None = None, limit: int | None = None) -> list[BatchRunRecord]:
        """Recorded batch runs, newest first; all or those of ``model``."""
        if model is not None:
            check_name(model)
        with self.metadata.read() as tx:
            return tx.list_batch_runs(model=model, limit=limit)

    # degraded mode

    def degrade(
        self,
        name: str,
        mode: str,
        *,
        reason: str,
        rule: Mapping[str, Any] | None = None,
    ) -> Degradation:
        """Put deployment ``name`` in degraded mode (or change its mode), audited at once."""
        check_name(name, kind="deployment name")
        record = Degradation(
            name=name,
            mode=check_mode(mode),
            reason=check_reason(reason),
            since=utc_now_iso(),
            actor=self.actor,
            rule=dict(rule) if rule is not None else None,
        )
        _check_event(DEGRADED, name, None, record.to_dict())
        with self.metadata.write() as tx:
            before = tx.get_degradation(name)
            tx.put_degradation(record)
            self._append(
                tx, DEGRADED, name, before=before.to_dict() if before else None, after=record.to_dict()
            )
        return record

    def restore(self, name: str, *, reason: str | None = None) -> Degradation:
        """Leave degraded mode; the audit event records the state that ended."""
        check_name(name, kind="deployment name")
        with self.metadata.write() as tx:
            current = tx.get_degradation(name)
            if current is None:
                raise NotFoundError(
                    f"deployment {name!r} is not in degraded mode; `slipway degraded` lists those that are"
                )
            tx.delete_degradation(name)
            self._append(tx, RESTORED, name, before=current.to_dict(), after=_with_reason({}, reason))
        return current

    def degradation(self, name: str) -> Degradation | None:
        check_name(name, kind="deployment name")
        with self.metadata.read() as tx:
            return tx.get_degradation(name)

    def degradations(self) -> list[Degradation]:
        with self.metadata.read() as tx:
            return tx.list_degradations()

    # audit

    def record_event(
        self,
        action: str,
        subject: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event for another capability (validation runs, deployments, rollbacks)."""
        _check_event(action, subject, before, after)
        with self.metadata.write() as tx:
            return self._append(tx, action, subject, before=before, after=after)

    def audit_log(self, *, model: str | None = None) -> list[AuditEvent]:
        """Every event in order, or those about ``model``, its versions and its aliases."""
        if model is None:
            return list(self.metadata.audit_events())
        self.get_model(model)
        events = self.metadata.audit_events(subject_prefix=model)
        return [event for event in events if history.is_about_model(event.subject, model)]

    def verify_audit(self) -> ChainReport:
        """Check the whole chain against the stored head; the report names the first bad event."""
        for _ in range(_SNAPSHOT_ATTEMPTS):
            head = self.metadata.audit_head()
            events = list(self.metadata.audit_events())
            if self.metadata.audit_head() == head:
                break  # no write landed while reading: events and head belong together
        return verify_chain(events, head=head)

    def _append(
        self,
        tx: MetadataTransaction,
        action: str,
        subject: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        draft = AuditDraft(action, subject, self.actor, before=before, after=after)
        return tx.append_audit(draft)


def _resolve(tx: MetadataTransaction, ref: ModelRef | str) -> VersionRecord:
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    model = _require_model(tx, ref.name)
    version = ref.version
    if ref.alias is not None:
        version = tx.get_alias(ref.name, ref.alias)
        if version is None:
            raise NotFoundError(missing_alias(ref.name, ref.alias, tx.list_aliases(ref.name)))
    record = tx.get_version(ref.name, version) if version is not None else None
    if record is None:
        raise NotFoundError(missing_version(ref.name, version, model.latest_version))
    return record


def _require_model(tx: MetadataTransaction, name: str) -> ModelRecord:
    model = tx.get_model(name)
    if model is None:
        raise NotFoundError(missing_model(name, [m.name for m in tx.list_models()]))
    return model


def _fetch(tx: MetadataTransaction, name: str, version: int) -> VersionRecord:
    record = tx.get_version(name, version)
    if record is None:
        raise NotFoundError(missing_version(name, version, None))
    return record


def _with_reason(data: dict[str, Any], reason: str | None) -> dict[str, Any]:
    return data if reason is None else {**data, "reason": reason}


def _parse_status(status: VersionStatus | str) -> VersionStatus:
    try:
        return VersionStatus(status)
    except ValueError:
        choices = ", ".join(s.value for s in VersionStatus)
        raise InvalidInputError(f"unknown status {status!r}; use one of: {choices}") from None


def _check_version_number(version: int) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(f"invalid version {version!r}: versions are whole numbers from 1")


def _check_tag(key: str, value: str) -> None:
    if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
        raise InvalidInputError(
            f"invalid tag key {key!r}: use up to 100 letters, digits, '_', '.', '-' or '/', "
            "starting with a letter"
        )
    if not isinstance(value, str) or len(value) > _MAX_TAG_VALUE:
        raise InvalidInputError(f"invalid value for tag {key!r}: use a string of at most 1000 characters")


def _check_event(
    action: str,
    subject: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    if not isinstance(action, str) or not _ACTION.fullmatch(action):
        raise InvalidInputError(
            f"invalid audit action {action!r}: use dotted lowercase words, e.g. 'deployment.created'"
        )
    if not isinstance(subject, str) or not 0 < len(subject) <= _MAX_SUBJECT or not subject.isprintable():
        raise InvalidInputError(f"invalid audit subject {subject!r}: use 1-200 printable characters")
    try:
        for data in (before, after):
            to_canonical_json(dict(data) if data is not None else None)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"audit event data for {action!r} is not plain JSON: {exc}") from exc
