"""What the server serves: a Scorer plus the identity every response carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slipway.scoring.scorer import Scorer

#: JSON Schema types of the profile kinds and lookup value types.
JSON_TYPES = {
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "category": "string",
    "string": "string",
    "datetime": "string",
}


@dataclass
class ServedModel:
    scorer: Scorer
    #: The registry version, or None for an artifact served from a path.
    version: int | None = None
    name: str = field(init=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.scorer.artifact.name
        self.digest = self.scorer.artifact.digest

    @property
    def runtime(self) -> str:
        return self.scorer.runtime_name

    @property
    def version_label(self) -> str:
        """The version as metrics and the v2 protocol show it: the number, or the digest prefix."""
        return str(self.version) if self.version is not None else self.digest[:12]

    @property
    def classes(self) -> tuple[Any, ...] | None:
        return self.scorer.artifact.classes

    @property
    def has_lookups(self) -> bool:
        return any(stage.phase == "enrich" for stage in self.scorer.stages)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "digest": self.digest, "runtime": self.runtime}

    def column_kinds(self) -> dict[str, str]:
        """Every column a request sends, with its kind (``any`` when unknown)."""
        kinds = {column.name: column.kind for column in self.scorer.request_schema.columns}
        for stage in self.scorer.stages:
            spec = getattr(stage, "spec", None)
            for name, kind in getattr(spec, "keys", {}).items():
                kinds.setdefault(name, str(kind))
        return {name: kinds.get(name, "any") for name in self.scorer.input_columns}

    def nullable(self, name: str) -> bool:
        for column in self.scorer.request_schema.columns:
            if column.name == name:
                return column.nullable
        return True

    def record_schema(self) -> dict[str, Any]:
        """A JSON Schema of one record, for the OpenAPI document."""
        properties: dict[str, Any] = {}
        for name, kind in self.column_kinds().items():
            json_type = JSON_TYPES.get(kind)
            if json_type is None:
                properties[name] = {}
            else:
                properties[name] = {"type": [json_type, "null"] if self.nullable(name) else json_type}
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }

    def probe_record(self) -> dict[str, Any]:
        """A typical record from the training profile: medians and most frequent categories.

        A lookup key is not in the profile: it is sent as null (the lookup's miss policy
        answers), unless the caller gives the server a probe record of its own.
        """
        profile = self.scorer.artifact.profile
        record: dict[str, Any] = {}
        for name, kind in self.column_kinds().items():
            feature = None
            if profile is not None and name in profile.feature_names:
                feature = profile.feature(name)
            record[name] = _typical(feature, kind)
        return record


def _typical(feature: Any, kind: str) -> Any:
    if feature is None:
        return None
    if feature.is_numeric and feature.quantiles and feature.quantiles.get("0.5") is not None:
        median = float(feature.quantiles["0.5"])
        return round(median) if kind == "integer" else median
    if feature.categories:
        return feature.category_values()[0]
    if kind == "boolean":
        return False
    return None
