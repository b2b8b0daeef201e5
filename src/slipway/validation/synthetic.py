"""Synthetic rows drawn from the training profile: each feature from its recorded distribution.

Numeric features are drawn by inverse transform over the profile's quantiles (linear between
them), so the marginals follow the training data; categories by their recorded shares; a
feature that had missing values is missing at its training rate. Features are drawn
independently: the rows test the input domain, not the joint distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from slipway.core.errors import InvalidInputError
from slipway.core.profile import DataProfile, FeatureProfile


def sample_profile(profile: DataProfile, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({feature.name: _draw(feature, rows, rng) for feature in profile.features})


def _draw(feature: FeatureProfile, rows: int, rng: np.random.Generator) -> np.ndarray | pd.Series:
    if feature.is_numeric:
        values = _numeric(feature, rows, rng)
    elif feature.categories:
        labels = [value for value, _ in feature.categories]
        shares = np.asarray([share for _, share in feature.categories], dtype=np.float64)
        picked = rng.choice(len(labels), size=rows, p=shares / shares.sum())
        values = np.asarray([labels[i] for i in picked], dtype=object)
    else:
        raise InvalidInputError(
            f"synthetic rows cannot be drawn for feature {feature.name!r} ({feature.kind}): the profile "
            "records no distribution for it; drop the synthetic scenario or use a file scenario"
        )
    if feature.nullable and feature.missing_rate > 0:
        missing = rng.random(rows) < feature.missing_rate
        values = values.astype(np.float64 if feature.kind == "number" else object)
        values[missing] = np.nan if feature.kind == "number" else None
    if feature.kind == "boolean" and not feature.nullable:
        values = values.astype(bool)
    return values


def _numeric(feature: FeatureProfile, rows: int, rng: np.random.Generator) -> np.ndarray:
    if feature.quantiles:
        levels = np.asarray([float(key) for key in feature.quantiles])
        points = np.asarray(list(feature.quantiles.values()), dtype=np.float64)
        order = np.argsort(levels)
        values = np.interp(rng.random(rows), levels[order], points[order])
    else:
        values = np.full(rows, feature.mean if feature.mean is not None else 0.0)
    if feature.kind == "integer":
        return np.round(values).astype(np.int64)
    return values
