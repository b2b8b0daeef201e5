"""Derived scenarios: rows of a base dataset, each set with exactly one oddity.

Every generator returns ``(suffix, purpose, frame, base_rows)`` variants: ``base_rows`` maps each
row back to its row in the base dataset, so the gate can check that harmless oddities (a type
that coerces, a duplicated row) leave the prediction unchanged (``mismatch_rate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from slipway.core.profile import DataProfile, FeatureProfile

UNSEEN = "__slipway_unseen__"
EXTREME_SPANS = 10.0
#: Derived kinds whose oddity must not change a prediction.
CONSISTENCY_KINDS = ("wrong_types", "duplicated_rows")


@dataclass(frozen=True)
class Variant:
    suffix: str | None
    purpose: str
    frame: pd.DataFrame
    base_rows: np.ndarray


Generator = Callable[[pd.DataFrame, np.ndarray, Sequence[FeatureProfile]], list[Variant]]


def _numeric(features: Sequence[FeatureProfile]) -> list[FeatureProfile]:
    return [f for f in features if f.is_numeric]


def _textual(features: Sequence[FeatureProfile]) -> list[FeatureProfile]:
    return [f for f in features if f.kind in ("category", "string")]


def _per_feature(
    sample: pd.DataFrame,
    rows: np.ndarray,
    chosen: Sequence[FeatureProfile],
    change: Callable[[pd.DataFrame, FeatureProfile], None],
    describe: Callable[[str], str],
) -> list[Variant]:
    variants = []
    for feature in chosen:
        frame = sample.copy()
        change(frame, feature)
        variants.append(Variant(feature.name, describe(feature.name), frame, rows))
    if len(chosen) > 1:
        frame = sample.copy()
        for feature in chosen:
            change(frame, feature)
        variants.append(Variant("all", describe("every such feature"), frame, rows))
    return variants


def _set_missing(frame: pd.DataFrame, feature: FeatureProfile) -> None:
    frame[feature.name] = np.nan if feature.is_numeric else pd.Series([None] * len(frame), dtype=object)


def missing_values(
    sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]
) -> list[Variant]:
    return _per_feature(sample, rows, features, _set_missing, lambda f: f"{f} is missing in every row")


def _set_extreme(frame: pd.DataFrame, feature: FeatureProfile) -> None:
    low, high = feature.minimum or 0.0, feature.maximum or 0.0
    span = (high - low) or max(abs(high), 1.0)
    values = np.where(np.arange(len(frame)) % 2 == 0, high + EXTREME_SPANS * span, low - EXTREME_SPANS * span)
    frame[feature.name] = np.round(values).astype(np.int64) if feature.kind == "integer" else values


def extreme_values(
    sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]
) -> list[Variant]:
    return _per_feature(
        sample,
        rows,
        _numeric(features),
        _set_extreme,
        lambda f: f"{f} lies {EXTREME_SPANS:g} training ranges above or below what was seen",
    )


def _set_unseen(frame: pd.DataFrame, feature: FeatureProfile) -> None:
    frame[feature.name] = pd.Series([UNSEEN] * len(frame), dtype=object)


def unseen_categories(
    sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]
) -> list[Variant]:
    return _per_feature(
        sample,
        rows,
        _textual(features),
        _set_unseen,
        lambda f: f"{f} holds a category never seen in training",
    )


def _set_empty(frame: pd.DataFrame, feature: FeatureProfile) -> None:
    frame[feature.name] = pd.Series([""] * len(frame), dtype=object)


def empty_strings(
    sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]
) -> list[Variant]:
    chosen = _textual(features)
    if not chosen:
        return []
    frame = sample.copy()
    for feature in chosen:
        _set_empty(frame, feature)
    return [Variant(None, "every text feature is an empty string", frame, rows)]


def wrong_types(sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]) -> list[Variant]:
    """Types that a lenient client would coerce: numbers as text, integers as floats, bools as 0/1."""
    variants = []
    numeric = _numeric(features)
    if numeric:
        frame = sample.copy()
        for feature in numeric:
            frame[feature.name] = pd.Series(
                [None if pd.isna(v) else str(v) for v in frame[feature.name]], dtype=object
            )
        variants.append(Variant("numbers_as_text", "numbers arrive as text, e.g. '42.5'", frame, rows))
    integers = [f for f in features if f.kind == "integer"]
    if integers:
        frame = sample.copy()
        for feature in integers:
            frame[feature.name] = frame[feature.name].astype(np.float64)
        variants.append(
            Variant("integers_as_floats", "whole numbers arrive as floats, e.g. 3.0", frame, rows)
        )
    booleans = [f for f in features if f.kind == "boolean"]
    if booleans:
        frame = sample.copy()
        for feature in booleans:
            frame[feature.name] = frame[feature.name].astype(np.int64)
        variants.append(Variant("booleans_as_numbers", "true/false arrive as 1/0", frame, rows))
    return variants


def duplicated_rows(
    sample: pd.DataFrame, rows: np.ndarray, features: Sequence[FeatureProfile]
) -> list[Variant]:
    frame = pd.concat([sample, sample], ignore_index=True)
    return [Variant(None, "every row appears twice; duplicates must score alike", frame, np.tile(rows, 2))]


GENERATORS: dict[str, Generator] = {
    "missing_values": missing_values,
    "extreme_values": extreme_values,
    "unseen_categories": unseen_categories,
    "wrong_types": wrong_types,
    "duplicated_rows": duplicated_rows,
    "empty_strings": empty_strings,
}


def feature_profiles(
    profile: DataProfile | None, features: Sequence[str], base: pd.DataFrame
) -> list[FeatureProfile]:
    """Profiles of ``features``: the artifact's, else fitted on the base rows."""
    if profile is not None:
        return [profile.feature(name) for name in features]
    from slipway.artifacts.profiling import profile_feature

    return [profile_feature(base[name]) for name in features]
