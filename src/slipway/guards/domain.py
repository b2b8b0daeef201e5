"""Domain of applicability: each feature's training interval, known categories, allowed missingness.

Fitted from the training profile; a value outside is flagged with the feature, the value and the
interval (``Flag.detail = {"interval": [low, high]}``, or ``{"known": [...]}`` for categories).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from slipway.core.flags import Flag
from slipway.core.profile import DataProfile
from slipway.guards.config import DomainConfig, Policy
from slipway.guards.policy import row_action
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

GUARD = "domain"
_SMALL = 64  # below this many rows, plain Python beats pandas' hashing


def fit_domain(config: DomainConfig, profile: DataProfile) -> dict[str, Any]:
    """The JSON-able domain: intervals (with the margin), categories and missingness per feature."""
    names = config.features or profile.feature_names
    features: dict[str, Any] = {}
    for name in names:
        feature = profile.feature(name)
        entry: dict[str, Any] = {
            "kind": feature.kind,
            "allow_missing": config.allow_missing.get(name, feature.nullable),
        }
        # the input schema already refuses nulls where training had none: check only the
        # features whose missing values training had but the configuration forbids
        entry["check_missing"] = feature.nullable and not entry["allow_missing"]
        if name in config.intervals:
            entry["interval"] = [float(v) for v in config.intervals[name]]
        elif feature.is_numeric and feature.minimum is not None and feature.maximum is not None:
            pad = config.margin * (feature.maximum - feature.minimum)
            entry["interval"] = [feature.minimum - pad, feature.maximum + pad]
        if feature.kind == "category" and feature.categories is not None:
            entry["known"] = feature.category_values()
        features[name] = entry
    return {"policy": config.policy, "features": features}


class DomainGuard:
    """Input stage: flags (or rejects, clips, hands to the fallback) rows outside the domain."""

    name = GUARD
    phase: Phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fitted: dict[str, Any]) -> None:
        self.policy: Policy = fitted["policy"]
        self.features: dict[str, Any] = fitted["features"]
        self._known = {name: set(e["known"]) for name, e in self.features.items() if "known" in e}
        self._intervals = [name for name, e in self.features.items() if "interval" in e]
        self._lows = np.asarray([self.features[name]["interval"][0] for name in self._intervals])
        self._highs = np.asarray([self.features[name]["interval"][1] for name in self._intervals])

    def apply(self, batch: Batch) -> None:
        for name in self._outside_columns(batch):
            self._check_interval(batch, name, batch.columns[name], self.features[name])
        for name, entry in self.features.items():
            values = batch.columns.get(name)
            if values is None:
                continue
            if name in self._known and "interval" not in entry:
                self._check_categories(batch, name, values, entry)
            if entry.get("check_missing"):
                self._check_missing(batch, name, values)

    def _outside_columns(self, batch: Batch) -> list[str]:
        """The numeric features with a value outside their interval, all checked at once."""
        if not self._intervals:
            return []
        matrix = np.column_stack([batch.columns[name] for name in self._intervals])
        if matrix.dtype.kind not in "iuf":
            return list(self._intervals)  # a column of another type: check them one by one
        hits = np.asarray(((matrix < self._lows) | (matrix > self._highs)).any(axis=0))
        outside: list[bool] = hits.tolist()
        return [name for name, hit in zip(self._intervals, outside, strict=True) if hit]

    def _check_interval(self, batch: Batch, name: str, values: np.ndarray, entry: dict[str, Any]) -> None:
        low, high = entry["interval"]
        if values.dtype.kind not in "iuf":
            return
        outside = np.flatnonzero((values < low) | (values > high))  # NaN compares False: not flagged
        if outside.size == 0:
            return
        action = row_action(self.policy)
        for row in outside.tolist():
            value = values[row].item()
            batch.flag(
                row,
                Flag(
                    GUARD,
                    "below_range" if value < low else "above_range",
                    f"{name} = {value:g} is outside [{low:g}, {high:g}] (the training range and its margin)",
                    action=action,
                    feature=name,
                    value=value,
                    detail={"interval": [low, high]},
                ),
            )
        if self.policy == "clip":
            batch.columns[name] = _clipped(values, low, high)

    def _check_categories(self, batch: Batch, name: str, values: np.ndarray, entry: dict[str, Any]) -> None:
        known = self._known[name]
        # most batches hold only known values: check the distinct values first (hashing, in C)
        distinct = pd.unique(values) if len(values) > _SMALL else values
        if all(value is None or value in known for value in distinct.tolist()):
            return
        unknown = [
            row for row, value in enumerate(values.tolist()) if value is not None and value not in known
        ]
        # clipping has no meaning for a category: the row is flagged instead
        action = row_action(self.policy, clip_as="flag")
        for row in unknown:
            value = values[row]
            batch.flag(
                row,
                Flag(
                    GUARD,
                    "unknown_category",
                    f"{name} = {value!r} was never seen in training",
                    action=action,
                    feature=name,
                    value=value,
                    detail={"known": entry["known"]},
                ),
            )

    def _check_missing(self, batch: Batch, name: str, values: np.ndarray) -> None:
        if values.dtype.kind == "f":
            missing = np.flatnonzero(np.isnan(values))
        elif values.dtype == object:
            missing = np.flatnonzero(np.fromiter((v is None for v in values), dtype=bool, count=len(values)))
        else:
            return
        action = row_action(self.policy, clip_as="flag")
        for row in missing.tolist():
            batch.flag(
                row,
                Flag(
                    GUARD,
                    "missing",
                    f"{name} is missing, which training did not allow",
                    action=action,
                    feature=name,
                ),
            )


def _clipped(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """A clipped copy (never the caller's array); integer columns stay integers."""
    if values.dtype.kind in "iu":
        clipped: np.ndarray = np.clip(values, math.ceil(low), math.floor(high)).astype(values.dtype)
        return clipped
    result: np.ndarray = np.clip(values, low, high)
    return result
