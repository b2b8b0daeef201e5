"""Registry records: plain, immutable values that cross the store boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slipway.core.refs import ModelRef


class VersionStatus(StrEnum):
    """Life cycle of a model version. The gate moves versions to ``validated`` or ``rejected``."""

    REGISTERED = "registered"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class ModelRecord:
    name: str
    created_at: str
    description: str = ""
    latest_version: int | None = None


@dataclass(frozen=True, slots=True)
class VersionRecord:
    name: str
    version: int
    digest: str
    status: VersionStatus
    created_at: str
    created_by: str
    flavor: str
    task: str
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, version=self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "status": str(self.status),
            "created_at": self.created_at,
            "created_by": self.created_by,
            "flavor": self.flavor,
            "task": self.task,
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class ValidationRunRecord:
    """One run of the validation gate on a version: what was checked, with what, and the verdict.

    ``results`` is the JSON report (the gate's source of truth); ``reports`` maps report kinds
    (json, junit, html) to where they were written.
    """

    name: str
    version: int
    digest: str
    plan_digest: str
    verdict: str
    started_at: str
    finished_at: str
    actor: str
    environment: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    id: int = 0

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self, *, with_results: bool = False) -> dict[str, Any]:
        data = {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "plan_digest": self.plan_digest,
            "verdict": self.verdict,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "actor": self.actor,
            "environment": self.environment,
            "reports": self.reports,
        }
        if with_results:
            data["results"] = self.results
        return data
