"""The registry's metadata in a SQL database (SQLite file or PostgreSQL) through SQLAlchemy Core."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from slipway.adapters.sql_engine import begin, create_engine, translate_error, upgrade_to_head
from slipway.adapters.sql_tables import (
    aliases,
    audit_events,
    audit_head,
    batch_runs,
    degradations,
    deployment_stats,
    deployments,
    exposures,
    models,
    outcomes,
    tags,
    validation_runs,
    versions,
)
from slipway.core.audit import AuditDraft, AuditEvent, seal
from slipway.core.batch_run import BatchRunRecord, BatchRunStatus
from slipway.core.degradation import Degradation, check_mode
from slipway.core.deployment import (
    DeploymentRecord,
    DeploymentState,
    ExposureRecord,
    OutcomeRecord,
    SlotRecord,
    StatsWindow,
)
from slipway.core.errors import ConflictError, NotFoundError
from slipway.core.records import ModelRecord, ValidationRunRecord, VersionRecord, VersionStatus
from slipway.core.settings import redact_url

_HEAD = audit_head.c.id == 1


class SqlMetadataStore:
    """A ``MetadataStore`` over a SQLAlchemy engine; ``open`` migrates the database to head."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | sa.URL) -> SqlMetadataStore:
        store = cls(create_engine(sa.make_url(url)))
        with store._translated():
            upgrade_to_head(store.engine)
        return store

    @property
    def display_url(self) -> str:
        return redact_url(self.engine.url.render_as_string(hide_password=False))

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        with self._translated(), begin(self.engine, write=True) as connection:
            # The registry's write lock (a no-op clause on SQLite, where BEGIN IMMEDIATE took it).
            connection.execute(sa.select(audit_head.c.seq).where(_HEAD).with_for_update())
            yield SqlTransaction(connection, writable=True)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._translated(), begin(self.engine, write=False) as connection:
            yield SqlTransaction(connection, writable=False)

    def audit_events(self, *, subject_prefix: str | None = None, since_seq: int = 0) -> Iterator[AuditEvent]:
        query = sa.select(audit_events).where(audit_events.c.seq > since_seq)
        if subject_prefix is not None:
            query = query.where(audit_events.c.subject.startswith(subject_prefix, autoescape=True))
        with self.read() as transaction:
            rows = transaction.connection.execute(query.order_by(audit_events.c.seq)).all()
        return iter([_event(row._mapping) for row in rows])

    def audit_head(self) -> tuple[int, str] | None:
        with self.read() as transaction:
            seq, hash_ = transaction.head()
        return (seq, hash_) if seq else None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            raise translate_error(exc, self.engine.url) from exc


class SqlTransaction:
    """One ``MetadataTransaction`` on an open connection."""

    def __init__(self, connection: sa.Connection, *, writable: bool) -> None:
        self.connection = connection
        self.writable = writable

    # models

    def get_model(self, name: str) -> ModelRecord | None:
        row = self.connection.execute(_models_query().where(models.c.name == name)).first()
        return _model(row._mapping) if row else None

    def list_models(self) -> list[ModelRecord]:
        rows = self.connection.execute(_models_query().order_by(models.c.name))
        return [_model(row._mapping) for row in rows]

    def ensure_model(self, name: str, *, created_at: str, description: str = "") -> tuple[ModelRecord, bool]:
        found = self.get_model(name)
        if found is not None:
            return found, False
        self._execute(models.insert().values(name=name, created_at=created_at, description=description))
        return ModelRecord(name=name, created_at=created_at, description=description), True

    # versions

    def list_versions(self, name: str) -> list[VersionRecord]:
        query = versions.select().where(versions.c.model == name).order_by(versions.c.version)
        return self._records(self.connection.execute(query).all(), name)

    def get_version(self, name: str, version: int) -> VersionRecord | None:
        query = versions.select().where(versions.c.model == name, versions.c.version == version)
        found = self._records(self.connection.execute(query).all(), name)
        return found[0] if found else None

    def find_version_by_digest(self, name: str, digest: str) -> VersionRecord | None:
        query = versions.select().where(versions.c.model == name, versions.c.digest == digest)
        found = self._records(self.connection.execute(query).all(), name)
        return found[0] if found else None

    def insert_version(self, record: VersionRecord) -> VersionRecord:
        if self.get_model(record.name) is None:
            raise NotFoundError(f"unknown model {record.name!r}")
        latest = sa.select(sa.func.max(versions.c.version)).where(versions.c.model == record.name)
        number = (self.connection.execute(latest).scalar() or 0) + 1
        self._execute(
            versions.insert().values(
                model=record.name,
                version=number,
                digest=record.digest,
                status=str(record.status),
                created_at=record.created_at,
                created_by=record.created_by,
                flavor=record.flavor,
                task=record.task,
            )
        )
        return dataclasses.replace(record, version=number, aliases=(), tags={})

    def set_status(self, name: str, version: int, status: VersionStatus) -> None:
        self._require_version(name, version)
        where = (versions.c.model == name, versions.c.version == version)
        self._execute(versions.update().where(*where).values(status=str(status)))

    # aliases and tags

    def get_alias(self, name: str, alias: str) -> int | None:
        query = sa.select(aliases.c.version).where(aliases.c.model == name, aliases.c.alias == alias)
        value = self.connection.execute(query).scalar()
        return int(value) if value is not None else None

    def list_aliases(self, name: str) -> dict[str, int]:
        query = sa.select(aliases.c.alias, aliases.c.version).where(aliases.c.model == name)
        return {row.alias: row.version for row in self.connection.execute(query)}

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self._require_version(name, version)
        self._upsert(aliases, {"model": name, "alias": alias}, {"version": version})

    def delete_alias(self, name: str, alias: str) -> None:
        self._execute(aliases.delete().where(aliases.c.model == name, aliases.c.alias == alias))

    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._require_version(name, version)
        self._upsert(tags, {"model": name, "version": version, "key": key}, {"value": value})

    def delete_tag(self, name: str, version: int, key: str) -> None:
        where = (tags.c.model == name, tags.c.version == version, tags.c.key == key)
        self._execute(tags.delete().where(*where))

    # audit

    def head(self) -> tuple[int, str]:
        row = self.connection.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(_HEAD))
        seq, hash_ = row.one()
        return int(seq), str(hash_)

    def append_audit(self, draft: AuditDraft) -> AuditEvent:
        seq, prev_hash = self.head()
        event = seal(draft, seq=seq + 1, prev_hash=prev_hash)
        self._execute(audit_events.insert().values(**event.to_dict()))
        self._execute(audit_head.update().where(_HEAD).values(seq=event.seq, hash=event.hash))
        return event

    # validation runs

    def insert_validation_run(self, record: ValidationRunRecord) -> ValidationRunRecord:
        self._require_version(record.name, record.version)
        values = {
            "model": record.name,
            "version": record.version,
            "digest": record.digest,
            "plan_digest": record.plan_digest,
            "verdict": record.verdict,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "actor": record.actor,
            "environment": record.environment,
            "results": record.results,
            "reports": record.reports,
        }
        inserted = self._execute(validation_runs.insert().values(**values).returning(validation_runs.c.id))
        return dataclasses.replace(record, id=int(inserted.scalar_one()))

    def list_validation_runs(self, name: str, version: int | None = None) -> list[ValidationRunRecord]:
        query = validation_runs.select().where(validation_runs.c.model == name)
        if version is not None:
            query = query.where(validation_runs.c.version == version)
        rows = self.connection.execute(query.order_by(validation_runs.c.id))
        return [_run(row._mapping) for row in rows]

    # batch runs

    def insert_batch_run(self, record: BatchRunRecord) -> None:
        values = record.to_dict()
        self._execute(batch_runs.insert().values(**values))

    def get_batch_run(self, run_id: str) -> BatchRunRecord | None:
        row = self.connection.execute(batch_runs.select().where(batch_runs.c.run_id == run_id)).first()
        return _batch_run(row._mapping) if row else None

    def list_batch_runs(self, *, model: str | None = None, limit: int | None = None) -> list[BatchRunRecord]:
        query = batch_runs.select().order_by(batch_runs.c.finished_at.desc(), batch_runs.c.run_id.desc())
        if model is not None:
            query = query.where(batch_runs.c.model == model)
        if limit is not None:
            query = query.limit(limit)
        return [_batch_run(row._mapping) for row in self.connection.execute(query)]

    # deployments

    def get_deployment(self, name: str) -> DeploymentRecord | None:
        row = self.connection.execute(deployments.select().where(deployments.c.name == name)).first()
        return _deployment(row._mapping) if row else None

    def list_deployments(self) -> list[DeploymentRecord]:
        rows = self.connection.execute(deployments.select().order_by(deployments.c.name))
        return [_deployment(row._mapping) for row in rows]

    def insert_deployment(self, record: DeploymentRecord) -> None:
        if self.get_deployment(record.name) is not None:
            raise ConflictError(f"deployment {record.name!r} already exists")
        self._execute(deployments.insert().values(name=record.name, **_deployment_values(record)))

    def replace_deployment(self, record: DeploymentRecord, *, expected_generation: int) -> bool:
        where = (deployments.c.name == record.name, deployments.c.generation == expected_generation)
        done = self._execute(deployments.update().where(*where).values(**_deployment_values(record)))
        return done.rowcount == 1

    def insert_stats(self, windows: Sequence[StatsWindow]) -> None:
        if windows:
            self._execute(deployment_stats.insert(), [window.to_dict() for window in windows])

    def list_stats(self, deployment: str, *, since: str | None = None) -> list[StatsWindow]:
        query = deployment_stats.select().where(deployment_stats.c.deployment == deployment)
        if since is not None:
            query = query.where(deployment_stats.c.window_end >= since)
        rows = self.connection.execute(query.order_by(deployment_stats.c.id))
        return [_stats(row._mapping) for row in rows]

    def insert_exposures(self, records: Sequence[ExposureRecord]) -> None:
        ids = [record.request_id for record in records]
        known: set[str] = set()
        for start in range(0, len(ids), 500):  # keep the IN list within every database's limits
            query = sa.select(exposures.c.request_id).where(
                exposures.c.request_id.in_(ids[start : start + 500])
            )
            known.update(self.connection.execute(query).scalars())
        fresh = {r.request_id: r.to_dict() for r in records if r.request_id not in known}
        if fresh:
            self._execute(exposures.insert(), list(fresh.values()))

    def get_exposure(self, request_id: str) -> ExposureRecord | None:
        row = self.connection.execute(exposures.select().where(exposures.c.request_id == request_id)).first()
        return ExposureRecord(**row._mapping) if row else None

    def find_user_exposure(self, deployment: str, user_key: str) -> ExposureRecord | None:
        where = (exposures.c.deployment == deployment, exposures.c.user_key == user_key)
        row = self.connection.execute(exposures.select().where(*where).limit(1)).first()
        return ExposureRecord(**row._mapping) if row else None

    def list_exposures(self, deployment: str) -> list[ExposureRecord]:
        query = exposures.select().where(exposures.c.deployment == deployment).order_by(exposures.c.at)
        return [ExposureRecord(**row._mapping) for row in self.connection.execute(query)]

    def insert_outcome(self, record: OutcomeRecord) -> OutcomeRecord:
        values = {k: v for k, v in record.to_dict().items() if k != "id"}
        inserted = self._execute(outcomes.insert().values(**values).returning(outcomes.c.id))
        return dataclasses.replace(record, id=int(inserted.scalar_one()))

    def list_outcomes(self, deployment: str) -> list[OutcomeRecord]:
        query = outcomes.select().where(outcomes.c.deployment == deployment).order_by(outcomes.c.id)
        return [OutcomeRecord(**row._mapping) for row in self.connection.execute(query)]

    # degraded mode

    def get_degradation(self, name: str) -> Degradation | None:
        row = self.connection.execute(degradations.select().where(degradations.c.name == name)).first()
        return _degradation(row._mapping) if row else None

    def list_degradations(self) -> list[Degradation]:
        rows = self.connection.execute(degradations.select().order_by(degradations.c.name))
        return [_degradation(row._mapping) for row in rows]

    def put_degradation(self, record: Degradation) -> None:
        self._execute(degradations.delete().where(degradations.c.name == record.name))
        self._execute(degradations.insert().values(**record.to_dict()))

    def delete_degradation(self, name: str) -> None:
        self._execute(degradations.delete().where(degradations.c.name == name))

    # helpers

    def _execute(
        self, statement: sa.Executable, rows: list[dict[str, Any]] | None = None
    ) -> sa.CursorResult[Any]:
        if not self.writable:
            raise RuntimeError("a read transaction cannot change the registry; use store.write()")
        return self.connection.execute(statement, rows)

    def _upsert(self, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        where = [table.c[column] == value for column, value in key.items()]
        if self._execute(table.update().where(*where).values(**values)).rowcount == 0:
            self._execute(table.insert().values(**key, **values))

    def _require_version(self, name: str, version: int) -> None:
        query = sa.select(versions.c.version).where(versions.c.model == name, versions.c.version == version)
        if self.connection.execute(query).first() is None:
            raise NotFoundError(f"model {name!r} has no version {version}")

    def _records(self, rows: Sequence[sa.Row[Any]], name: str) -> list[VersionRecord]:
        if not rows:
            return []
        numbers = [row.version for row in rows]
        alias_rows = self.connection.execute(
            sa.select(aliases.c.alias, aliases.c.version)
            .where(aliases.c.model == name, aliases.c.version.in_(numbers))
            .order_by(aliases.c.alias)
        )
        tag_rows = self.connection.execute(
            sa.select(tags.c.version, tags.c.key, tags.c.value)
            .where(tags.c.model == name, tags.c.version.in_(numbers))
            .order_by(tags.c.key)
        )
        by_version: dict[int, tuple[list[str], dict[str, str]]] = {n: ([], {}) for n in numbers}
        for alias in alias_rows:
            by_version[alias.version][0].append(alias.alias)
        for tag in tag_rows:
            by_version[tag.version][1][tag.key] = tag.value
        return [_version(row._mapping, *by_version[row.version]) for row in rows]


def _models_query() -> sa.Select[Any]:
    latest = (
        sa.select(sa.func.max(versions.c.version)).where(versions.c.model == models.c.name).scalar_subquery()
    )
    return sa.select(models, latest.label("latest_version"))


def _model(row: sa.RowMapping) -> ModelRecord:
    return ModelRecord(
        name=row["name"],
        created_at=row["created_at"],
        description=row["description"],
        latest_version=row["latest_version"],
    )


def _version(row: sa.RowMapping, alias_names: list[str], tag_map: dict[str, str]) -> VersionRecord:
    return VersionRecord(
        name=row["model"],
        version=row["version"],
        digest=row["digest"],
        status=VersionStatus(row["status"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        flavor=row["flavor"],
        task=row["task"],
        aliases=tuple(alias_names),
        tags=tag_map,
    )


def _batch_run(row: sa.RowMapping) -> BatchRunRecord:
    values = {field.name: row[field.name] for field in dataclasses.fields(BatchRunRecord)}
    return BatchRunRecord(
        **{**values, "status": BatchRunStatus(row["status"]), "options": dict(row["options"])}
    )


def _event(row: sa.RowMapping) -> AuditEvent:
    return AuditEvent(**{field.name: row[field.name] for field in dataclasses.fields(AuditEvent)})


def _run(row: sa.RowMapping) -> ValidationRunRecord:
    return ValidationRunRecord(
        id=row["id"],
        name=row["model"],
        version=row["version"],
        digest=row["digest"],
        plan_digest=row["plan_digest"],
        verdict=row["verdict"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        actor=row["actor"],
        environment=dict(row["environment"]),
        results=dict(row["results"]),
        reports=dict(row["reports"]),
    )


def _deployment_values(record: DeploymentRecord) -> dict[str, Any]:
    return {
        "state": str(record.state),
        "slots": {name: slot.to_dict() for name, slot in record.slots().items()},
        "policy": record.policy,
        "step": record.step,
        "step_started_at": record.step_started_at,
        "generation": record.generation,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _deployment(row: sa.RowMapping) -> DeploymentRecord:
    slots = dict(row["slots"])
    candidate = slots.get("candidate")
    return DeploymentRecord(
        name=row["name"],
        stable=SlotRecord.from_dict(slots["stable"]),
        candidate=SlotRecord.from_dict(candidate) if candidate else None,
        policy=dict(row["policy"]),
        state=DeploymentState(row["state"]),
        step=row["step"],
        step_started_at=row["step_started_at"],
        generation=row["generation"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _stats(row: sa.RowMapping) -> StatsWindow:
    values = {field.name: row[field.name] for field in dataclasses.fields(StatsWindow)}
    return StatsWindow(
        **{
            **values,
            "latency_counts": list(row["latency_counts"]),
            "predictions": list(row["predictions"]),
            "extra": dict(row["extra"]),
        }
    )


def _degradation(row: sa.RowMapping) -> Degradation:
    rule = row["rule"]
    return Degradation(
        name=row["name"],
        mode=check_mode(row["mode"]),
        reason=row["reason"],
        since=row["since"],
        actor=row["actor"],
        rule=dict(rule) if rule is not None else None,
    )
