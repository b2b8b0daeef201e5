"""Fit a DataProfile from training data (pandas)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slipway.core.errors import InvalidInputError
from slipway.core.profile import QUANTILES, DataProfile, FeatureProfile, Kind, TargetProfile

MAX_CATEGORIES = 1000


def profile_data(
    frame: pd.DataFrame, *, features: tuple[str, ...], target: str | None, task: str
) -> DataProfile:
    missing = [name for name in (*features, *([target] if target else [])) if name not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"training data has no column {missing[0]!r}; columns: {', '.join(map(str, frame.columns))}"
        )
    if frame.empty:
        raise InvalidInputError("training data is empty: a profile needs at least one row")
    return DataProfile(
        rows=len(frame),
        features=tuple(profile_feature(frame[name]) for name in features),
        target=profile_target(frame[target], task=task) if target else None,
    )


def feature_kind(series: pd.Series) -> Kind:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype) or series.nunique(dropna=True) <= MAX_CATEGORIES:
        return "category"
    return "string"


def profile_feature(series: pd.Series) -> FeatureProfile:
    kind = feature_kind(series)
    present = series.dropna()
    stats: dict[str, Any] = {}
    if kind in ("number", "integer") and len(present):
        values = present.to_numpy(dtype=np.float64)
        stats = _numeric_stats(values)
    if kind in ("category", "boolean"):
        stats["categories"] = _frequencies(present)
    return FeatureProfile(
        name=str(series.name),
        kind=kind,
        dtype=str(series.dtype),
        nullable=bool(series.isna().any()),
        count=len(series),
        missing_rate=float(series.isna().mean()),
        distinct=int(present.nunique()),
        **stats,
    )


def profile_target(series: pd.Series, *, task: str) -> TargetProfile:
    present = series.dropna()
    if task == "classification":
        return TargetProfile(name=str(series.name), kind="classes", classes=_frequencies(present))
    return TargetProfile(
        name=str(series.name), kind="number", **_numeric_stats(present.to_numpy(dtype=np.float64))
    )


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    if values.size == 0:
        return {}
    quantiles = np.quantile(values, QUANTILES)
    return {
        "minimum": float(values.min()),
        "maximum": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "quantiles": {f"{q:g}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
    }


def _frequencies(present: pd.Series) -> list[tuple[Any, float]] | None:
    counts = present.value_counts(normalize=True, sort=False)
    if len(counts) > MAX_CATEGORIES:
        return None
    pairs = [(_plain(value), float(share)) for value, share in counts.items()]
    # most frequent first; ties broken by the value's text so the order is reproducible
    return sorted(pairs, key=lambda pair: (-pair[1], str(pair[0])))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
