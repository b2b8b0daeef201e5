"""The profile of the training data: input schema and per-feature statistics.

Fitted when the artifact is built (``slipway.artifacts.profiling``), stored as
``profile/profile.json``, and read by everything that checks inputs: schema enforcement in
serving, the domain-of-applicability guard, the gate's derived scenarios, drift monitoring.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from slipway.core.errors import NotFoundError

Kind = Literal["number", "integer", "boolean", "category", "string", "datetime"]
NUMERIC_KINDS = ("number", "integer")
QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


class FeatureProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Kind
    dtype: str
    nullable: bool
    count: int
    missing_rate: float
    distinct: int
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None
    # (value, share of non-missing rows), most frequent first; None when there are too many values.
    categories: list[tuple[Any, float]] | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def category_values(self) -> list[Any]:
        return [value for value, _ in self.categories or ()]


class TargetProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["classes", "number"]
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None
    classes: list[tuple[Any, float]] | None = None


class DataProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int
    features: tuple[FeatureProfile, ...]
    target: TargetProfile | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    def feature(self, name: str) -> FeatureProfile:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise NotFoundError(f"no feature {name!r} in the profile; features: {', '.join(self.feature_names)}")
