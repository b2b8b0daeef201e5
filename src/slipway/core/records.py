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
