"""Domain of applicability: each feature's training interval, known categories, allowed missingness.

Fitted from the training profile; a value outside is flagged with the feature, the value and the
interval (``Flag.detail = {"interval": [low, high]}``, or ``{"known": [...]}`` for categories).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from slipway.core.flags import Flag
from slipway.core.profile import DataProfile
from slipway.guards.config import DomainConfig, Policy
from slipway.guards.policy import row_action
from slipway.scoring.batch import Batch

GUARD = "domain"


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
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fitted: dict[str, Any]) -> None:
        self.policy: Policy = fitted["policy"]
        self.features: dict[str, Any] = fitted["features"]
        self._known = {name: set(e["known"]) for name, e in self.features.items() if "known" in e}

    def apply(self, batch: Batch) -> None:
        for name, entry in self.features.items():
            values = batch.columns.get(name)
            if values is None:
                continue
            if "interval" in entry:
                self._check_interval(batch, name, values, entry)
            elif name in self._known:
                self._check_categories(batch, name, values, entry)
            if not entry["allow_missing"]:
                self._check_missing(batch, name, values)

    def _check_interval(self, batch: Batch, name: str, values: np.ndarray, entry: dict[str, Any]) -> None:
        low, high = entry["interval"]
        if values.dtype.kind not in "iuf":
            return
        with np.errstate(invalid="ignore"):
            outside = np.flatnonzero((values < low) | (values > high))
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
                    f"{name} = {value:g} is outside the training interval [{low:g}, {high:g}]",
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
