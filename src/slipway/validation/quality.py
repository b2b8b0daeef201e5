"""Quality metrics from targets and predictions: classification and regression.

Each metric is a function of arrays of equal length (the scored rows of a scenario), so the same
code serves point estimates, bootstrap resamples and slices. A metric that is undefined on the
given rows (ROC AUC with one class present, R² of one row) is NaN, which the gate reports as
"not computable" rather than as a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from slipway.core.errors import InvalidInputError

ECE_BINS = 10


@dataclass(frozen=True)
class Task:
    """What quality metrics need to know about the model: its task, classes and positive class."""

    kind: str  # "classification" | "regression"
    classes: tuple[Any, ...] | None = None
    positive: Any = None

    @classmethod
    def of(cls, task: str, classes: tuple[Any, ...] | None, positive: Any = None) -> Task:
        if task != "classification" or classes is None:
            return cls(task)
        if positive is None:
            positive = sorted(classes, key=_sort_key)[-1] if len(classes) == 2 else classes[-1]
        elif positive not in classes:
            raise InvalidInputError(
                f"plan: positive_class {positive!r} is not a class of the model; classes: "
                f"{', '.join(map(repr, classes))}"
            )
        return cls(task, classes, positive)

    @property
    def binary(self) -> bool:
        return self.classes is not None and len(self.classes) == 2

    @property
    def positive_index(self) -> int:
        assert self.classes is not None  # only called for classifiers
        return self.classes.index(self.positive)


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Scored:
    """The rows a metric is computed on."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None

    def take(self, index: np.ndarray) -> Scored:
        return Scored(
            self.y_true[index], self.y_pred[index], None if self.proba is None else self.proba[index]
        )

    def __len__(self) -> int:
        return len(self.y_true)


MetricFunction = Callable[[Scored, Task], float]


def _accuracy(s: Scored, t: Task) -> float:
    return float(np.mean(s.y_pred == s.y_true))


def _positive(s: Scored, t: Task) -> tuple[np.ndarray, np.ndarray]:
    return s.y_true == t.positive, s.y_pred == t.positive


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _per_class(s: Scored, t: Task, which: str) -> float:
    """Precision/recall for the positive class (binary) or their macro average."""
    labels = [t.positive] if t.binary or t.classes is None else list(t.classes)
    values = []
    for label in labels:
        truth, predicted = s.y_true == label, s.y_pred == label
        hits = float(np.sum(truth & predicted))
        values.append(_ratio(hits, float(np.sum(predicted if which == "precision" else truth))))
    return float(np.mean(values))


def _f1(s: Scored, t: Task) -> float:
    labels = [t.positive] if t.binary or t.classes is None else list(t.classes)
    scores = []
    for label in labels:
        truth, predicted = s.y_true == label, s.y_pred == label
        hits = float(np.sum(truth & predicted))
        denominator = float(np.sum(truth) + np.sum(predicted))
        scores.append(2 * hits / denominator if denominator else float("nan"))
    return float(np.mean(scores))


def _balanced_accuracy(s: Scored, t: Task) -> float:
    labels = np.unique(s.y_true)
    return float(np.mean([np.mean(s.y_pred[s.y_true == label] == label) for label in labels]))


def _roc_auc(s: Scored, t: Task) -> float:
    from sklearn.metrics import roc_auc_score

    if s.proba is None or len(np.unique(s.y_true)) < 2:
        return float("nan")
    if t.binary:
        return float(roc_auc_score(s.y_true == t.positive, s.proba[:, t.positive_index]))
    present = np.isin(np.asarray(t.classes, dtype=object), np.unique(s.y_true))
    if not present.all():
        return float("nan")
    return float(roc_auc_score(s.y_true, s.proba, multi_class="ovr", labels=list(t.classes or ())))


def _onehot(s: Scored, t: Task) -> np.ndarray:
    classes = np.asarray(t.classes, dtype=object)
    matches: np.ndarray = s.y_true.astype(object)[:, None] == classes[None, :]
    return matches.astype(np.float64)


def _log_loss(s: Scored, t: Task) -> float:
    if s.proba is None:
        return float("nan")
    truth = _onehot(s, t)
    clipped = np.clip(s.proba, 1e-15, 1.0)
    return float(-np.mean(np.sum(truth * np.log(clipped), axis=1)))


def _brier(s: Scored, t: Task) -> float:
    if s.proba is None:
        return float("nan")
    if t.binary:
        p = s.proba[:, t.positive_index]
        return float(np.mean((p - (s.y_true == t.positive)) ** 2))
    return float(np.mean(np.sum((s.proba - _onehot(s, t)) ** 2, axis=1)))


def calibration_bins(s: Scored, t: Task, bins: int = ECE_BINS) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, rows) per confidence bin of the top label, for ECE and plots."""
    if s.proba is None or t.classes is None:
        return []
    confidence = s.proba.max(axis=1)
    chosen = np.asarray(t.classes, dtype=object)[s.proba.argmax(axis=1)]
    correct = chosen == s.y_true.astype(object)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    result = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            result.append(
                (float(confidence[inside].mean()), float(correct[inside].mean()), int(inside.sum()))
            )
    return result


def _ece(s: Scored, t: Task) -> float:
    bins = calibration_bins(s, t)
    if not bins:
        return float("nan")
    total = sum(n for _, _, n in bins)
    return float(sum(abs(conf - acc) * n for conf, acc, n in bins) / total)


def _selection_rate(s: Scored, t: Task) -> float:
    return float(np.mean(s.y_pred == t.positive))


def _fpr(s: Scored, t: Task) -> float:
    truth, predicted = _positive(s, t)
    return _ratio(float(np.sum(predicted & ~truth)), float(np.sum(~truth)))


def _fnr(s: Scored, t: Task) -> float:
    truth, predicted = _positive(s, t)
    return _ratio(float(np.sum(~predicted & truth)), float(np.sum(truth)))


def _errors(s: Scored) -> np.ndarray:
    return s.y_pred.astype(np.float64) - s.y_true.astype(np.float64)


def _rmse(s: Scored, t: Task) -> float:
    return float(np.sqrt(np.mean(_errors(s) ** 2)))


def _mae(s: Scored, t: Task) -> float:
    return float(np.mean(np.abs(_errors(s))))


def _mape(s: Scored, t: Task) -> float:
    truth = np.abs(s.y_true.astype(np.float64))
    return float(np.mean(np.abs(_errors(s)) / np.maximum(truth, np.finfo(np.float64).eps)))


def _r2(s: Scored, t: Task) -> float:
    truth = s.y_true.astype(np.float64)
    total = float(np.sum((truth - truth.mean()) ** 2))
    return 1.0 - float(np.sum(_errors(s) ** 2)) / total if total > 0 and len(truth) > 1 else float("nan")


QUALITY: dict[str, MetricFunction] = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "precision": lambda s, t: _per_class(s, t, "precision"),
    "recall": lambda s, t: _per_class(s, t, "recall"),
    "f1": _f1,
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
    "brier_score": _brier,
    "expected_calibration_error": _ece,
    "selection_rate": _selection_rate,
    "false_positive_rate": _fpr,
    "false_negative_rate": _fnr,
    "rmse": _rmse,
    "mae": _mae,
    "mape": _mape,
    "r2": _r2,
}
CLASSIFICATION_DEFAULTS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "brier_score",
    "expected_calibration_error",
)
REGRESSION_DEFAULTS = ("rmse", "mae", "mape", "r2")


def default_metrics(task: Task) -> tuple[str, ...]:
    """The quality metrics every report shows for a scenario with targets."""
    return CLASSIFICATION_DEFAULTS if task.kind == "classification" else REGRESSION_DEFAULTS


def compute(name: str, scored: Scored, task: Task) -> float:
    if len(scored) == 0:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return QUALITY[name](scored, task)
