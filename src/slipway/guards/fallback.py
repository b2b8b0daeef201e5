"""The fallback: a simple model stored in the same artifact, or a fixed rule value.

It answers for every row that holds a flag with action ``fallback`` (a guard's policy, or the
degraded mode ``fallback``). A fallback model is a scikit-learn estimator taking the same
features, saved with the skops flavor under ``profile/guards/fallback/`` (no pickle) and loaded
with slipway's default skops trust policy. For a classifier, a rule value's probabilities are
1 for that class and 0 for the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.artifacts.flavors.sklearn import SklearnFlavor
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.flags import Flag
from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

FALLBACK_DIR = "profile/guards/fallback"
#: Extras that describe the main model's prediction, dropped when the fallback answers instead.
_MODEL_EXTRAS = ("interval", "prediction_set")


def save_fallback(
    value: Any,
    *,
    root: Path,
    task: str,
    features: tuple[str, ...],
    classes: tuple[Any, ...] | None,
    sample: pd.DataFrame,
) -> dict[str, Any]:
    """Store the fallback; return its JSON description (the rule value, or the model file)."""
    if value.rule is not None:
        return {"rule": value.rule}
    model = value.model
    if isinstance(model, str | Path):
        model = _read_skops(Path(model))
    flavor = SklearnFlavor()
    if not flavor.accepts(model):
        raise InvalidInputError(
            f"guards: fallback.model must be a scikit-learn estimator (saved with skops), "
            f"got a {type(model).__qualname__}"
        )
    fallback_classes = getattr(model, "classes_", None)
    if task == "classification" and (
        fallback_classes is None or list(fallback_classes) != list(classes or ())
    ):
        raise InvalidInputError(
            f"guards: the fallback model's classes {list(fallback_classes or [])} differ from the "
            f"model's {list(classes or [])}"
        )
    _check_answers(model, sample[list(features)])
    saved = flavor.save(model, root / FALLBACK_DIR)
    return {"model": f"{FALLBACK_DIR}/{saved.path}", "type": type(model).__qualname__}


def _check_answers(model: Any, sample: pd.DataFrame) -> None:
    """The fallback must answer the rows the model takes: try it on a few training rows now."""
    try:
        model.predict(sample)
    except Exception as exc:
        raise InvalidInputError(
            f"guards: the fallback model cannot predict the model's input columns "
            f"({', '.join(sample.columns)}): {type(exc).__name__}: {exc}"
        ) from exc


def _read_skops(path: Path) -> Any:
    from slipway.artifacts.model_files import read_model_file

    if not path.is_file():
        raise NotFoundError(f"guards: fallback model file {str(path)!r} does not exist")
    return read_model_file(path, flavor="sklearn", task=None, trust=TrustOptions())


class Fallback:
    """Answers for given rows, from the stored model or rule."""

    def __init__(
        self,
        fitted: dict[str, Any],
        *,
        root: Path,
        task: str,
        features: tuple[str, ...],
        classes: tuple[Any, ...] | None,
    ) -> None:
        self.rule = fitted.get("rule")
        self.features = features
        self.classes = classes
        self.runner: ModelRunner | None = None
        if "model" in fitted:
            section = ModelSection(
                flavor="sklearn",
                path=fitted["model"],
                task="classification" if task == "classification" else "regression",
                features=features,
                classes=classes,
            )
            self.runner = SklearnFlavor().load(root, section, TrustOptions())

    def answer(self, batch: Batch, rows: np.ndarray) -> None:
        """Replace the predictions (and probabilities) of ``rows`` with the fallback's."""
        values, probabilities = self._predict(batch, rows)
        current = batch.predictions
        merged = np.full(batch.n_rows, None, dtype=object) if current is None else current.copy()
        if merged.dtype == object or not np.can_cast(values.dtype, merged.dtype, "same_kind"):
            merged = merged.astype(object)
        merged[rows] = values
        batch.predictions = merged
        if self.classes is not None:
            if batch.probabilities is None:
                batch.probabilities = np.full((batch.n_rows, len(self.classes)), np.nan)
            batch.probabilities = batch.probabilities.copy()
            batch.probabilities[rows] = probabilities
        for name in _MODEL_EXTRAS:
            if name in batch.extras:
                for row in rows.tolist():
                    batch.extras[name][row] = None

    def _predict(self, batch: Batch, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.runner is None:
            values = np.full(len(rows), self.rule)
            probabilities = None
            if self.classes is not None:
                probabilities = np.asarray([[float(c == self.rule) for c in self.classes]] * len(rows))
            return values, probabilities
        frame = pd.DataFrame({name: batch.columns[name][rows] for name in self.features})
        values = np.asarray(self.runner.predict(frame))
        return values, self.runner.predict_proba(frame) if self.classes is not None else None


class FallbackStage:
    """Output stage, last: the fallback answers for accepted rows flagged with action ``fallback``."""

    name = "fallback"
    phase: Phase = "output"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, fallback: Fallback | None) -> None:
        self.fallback = fallback

    def passes_clean_rows(self) -> bool:
        return True  # it answers only for flagged rows

    def apply(self, batch: Batch) -> None:
        if not batch.flags.any():
            return
        wanted = batch.flags.mask(lambda flag: flag.action == "fallback")
        rows = np.flatnonzero(wanted & batch.accepted)
        if rows.size == 0:
            return
        if self.fallback is None:  # degraded to fallback, but this artifact has none: refuse
            for row in rows.tolist():
                batch.flag(
                    row,
                    Flag("fallback", "no_fallback", "no fallback model or rule in this artifact", "reject"),
                )
            return
        self.fallback.answer(batch, rows)
