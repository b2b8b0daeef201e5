"""Parity: does the compiled model answer like the native one, row by row, within a stated tolerance?

The rule (``Tolerance``; defaults in brackets):

* classifiers: identical class labels, and every probability within
  ``atol + rtol * |native|`` [atol 1e-6, rtol 1e-5];
* regressors: every output within ``atol' + rtol * |native|``, where ``atol' = max(atol, rtol *
  mean |native|)``, so outputs near zero are judged on the scale of the model's outputs rather
  than on a relative error that explodes near zero.

ONNX tree ensembles compute in float32 (inputs and split thresholds are rounded to float32),
scikit-learn and LightGBM in float64. A value within one float32 step of a split threshold can
therefore take the other branch. Such a row is recognised by re-running the native model on the
row's inputs rounded to float32, then moved one float32 step down, then up: if the native model
agrees with the compiled one at one of these inputs, the compiled answer is the native answer for
an input indistinguishable in float32, and the difference comes from rounding at a threshold, not
from the conversion. These *near-threshold* rows are counted apart and tolerated up to
``near_threshold_share`` of the rows [0.1%]; any other mismatching row fails parity. With
``near_threshold_share=0`` every row must match.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from slipway.scoring.result import to_plain
from slipway.scoring.runtime import Prediction, Runtime
from slipway.scoring.schema import Columns

_EXAMPLES = 5


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-5
    atol: float = 1e-6
    near_threshold_share: float = 0.001

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "near_threshold_share"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0 or value != value:
                raise ValueError(f"tolerance {name} must be a number >= 0, got {value!r}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class ParityReport:
    data: str
    rows: int
    passed: bool
    mismatching_rows: int
    near_threshold_rows: int
    label_mismatches: int | None
    max_abs_diff: float
    max_rel_diff: float
    #: The largest |compiled - native| / (atol + rtol * |native|): at most 1 where values pass.
    max_tolerance_used: float
    atol: float
    tolerance: dict[str, float]
    examples: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_parity(
    native: Runtime,
    compiled: Runtime,
    columns: Columns,
    features: tuple[str, ...],
    *,
    classification: bool,
    tolerance: Tolerance,
    data: str,
) -> ParityReport:
    """Score ``columns`` with both runtimes and compare them row by row (see the module docstring)."""
    rows = len(columns[features[0]])
    expected, actual = native.predict(columns, features), compiled.predict(columns, features)
    compared_expected, compared_actual = _compared(expected, actual, classification)
    atol = tolerance.atol
    if not classification and compared_expected.size:
        atol = max(atol, tolerance.rtol * float(np.nanmean(np.abs(compared_expected))))
    bad = _row_mismatch(compared_expected, compared_actual, tolerance.rtol, atol)
    label_mismatches = None
    if classification:
        labels_differ = np.asarray(expected.values) != np.asarray(actual.values)
        label_mismatches = int(labels_differ.sum())
        bad |= labels_differ
    near = _near_threshold(
        native, columns, features, np.flatnonzero(bad), actual, classification, tolerance, atol
    )
    unexplained = np.flatnonzero(bad & ~near)
    near_rows = int(near.sum())
    allowed_near = int(tolerance.near_threshold_share * rows)
    passed = unexplained.size == 0 and near_rows <= allowed_near
    reason = None
    if unexplained.size:
        reason = f"{unexplained.size} of {rows} rows differ beyond the tolerance"
    elif not passed:
        reason = (
            f"{near_rows} of {rows} rows differ at a split threshold (float32 rounding), "
            f"more than the {tolerance.near_threshold_share:.4%} tolerated"
        )
    shown = unexplained if unexplained.size else np.flatnonzero(bad)
    differences = np.abs(compared_actual - compared_expected)
    magnitudes = np.abs(compared_expected)
    finite = np.isfinite(differences)
    relative = differences[finite & (magnitudes > 0)] / magnitudes[finite & (magnitudes > 0)]
    allowed = atol + tolerance.rtol * magnitudes
    used = differences[finite & (allowed > 0)] / allowed[finite & (allowed > 0)]
    return ParityReport(
        data=data,
        rows=rows,
        passed=passed,
        mismatching_rows=int(bad.sum()),
        near_threshold_rows=near_rows,
        label_mismatches=label_mismatches,
        max_abs_diff=float(differences[finite].max()) if finite.any() else 0.0,
        max_rel_diff=float(relative.max()) if relative.size else 0.0,
        max_tolerance_used=float(used.max()) if used.size else 0.0,
        atol=atol,
        tolerance=tolerance.to_dict(),
        examples=[_example(row, expected, actual) for row in shown[:_EXAMPLES].tolist()],
        reason=reason,
    )


def _compared(
    expected: Prediction, actual: Prediction, classification: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers compared: probabilities for classifiers, predictions for regressors, as (n, k)."""
    if classification:
        if expected.probabilities is None or actual.probabilities is None:
            first = np.zeros((len(expected.values), 0))
            return first, first
        pair = (expected.probabilities, actual.probabilities)
    else:
        pair = (expected.values, actual.values)
    left, right = (np.asarray(values, dtype=np.float64) for values in pair)
    left, right = (values.reshape(len(values), -1) for values in (left, right))
    if left.shape != right.shape:
        raise ValueError(f"the compiled model answers with shape {right.shape}, the native one {left.shape}")
    return left, right


def _row_mismatch(expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    if expected.shape[1] == 0:
        return np.zeros(len(expected), dtype=bool)
    both_nan = np.isnan(expected) & np.isnan(actual)
    close = np.abs(actual - expected) <= atol + rtol * np.abs(expected)
    mismatch: np.ndarray = ~(close | both_nan).all(axis=1)
    return mismatch


def _near_threshold(
    native: Runtime,
    columns: Columns,
    features: tuple[str, ...],
    rows: np.ndarray,
    actual: Prediction,
    classification: bool,
    tolerance: Tolerance,
    atol: float,
) -> np.ndarray:
    """Mismatching rows the native model reproduces at an input within one float32 step."""
    near = np.zeros(len(columns[features[0]]), dtype=bool)
    for nudge in (0.0, -np.inf, np.inf):
        rows = rows[~near[rows]]
        if rows.size == 0:
            break
        nudged = {name: _float32_step(values[rows], nudge) for name, values in columns.items()}
        again = native.predict(nudged, features)
        subset = Prediction(
            np.asarray(actual.values)[rows],
            None if actual.probabilities is None else actual.probabilities[rows],
        )
        left, right = _compared(again, subset, classification)
        agree = ~_row_mismatch(left, right, tolerance.rtol, atol)
        if classification:
            agree &= np.asarray(again.values) == np.asarray(subset.values)
        near[rows[agree]] = True
    return near


def _float32_step(values: np.ndarray, towards: float) -> np.ndarray:
    """Numbers rounded to float32 (``towards`` 0), or moved one float32 step down/up (-inf/inf)."""
    if values.dtype.kind not in "fiu":
        return values
    rounded = values.astype(np.float32)
    if towards:
        rounded = np.nextafter(rounded, np.float32(towards))
    stepped: np.ndarray = rounded.astype(np.float64)
    return stepped


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    return to_plain(value)


def _example(row: int, expected: Prediction, actual: Prediction) -> dict[str, Any]:
    def pick(prediction: Prediction) -> Any:
        value = _plain(prediction.values[row])
        if prediction.probabilities is None:
            return value
        return {"label": value, "probabilities": _plain(prediction.probabilities[row])}

    return {"row": int(row), "native": pick(expected), "compiled": pick(actual)}
