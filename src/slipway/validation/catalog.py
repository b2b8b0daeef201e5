"""Every metric the gate knows: its family, which way is better, and what it means.

A plan names metrics in expectations (``rmse <= 60000``); a name not in this catalog is a plan
error with a "did you mean". Slice forms (``recall[gender=F]``, ``recall_gap[gender]``) and
comparison forms (``delta(accuracy)``) are built on the same names (see ``expressions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Family = Literal[
    "classification", "regression", "health", "computational", "stability", "robustness", "fairness", "parity"
]


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    family: Family
    #: True/False: which direction is better; None: neither (a descriptive number).
    higher_is_better: bool | None
    description: str

    @property
    def is_quality(self) -> bool:
        """Computed from predictions and targets row by row: can be sliced and bootstrapped."""
        return self.family in ("classification", "regression")


def _m(name: str, family: Family, higher: bool | None, description: str) -> MetricInfo:
    return MetricInfo(name, family, higher, description)


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        _m("accuracy", "classification", True, "share of rows whose predicted class is right"),
        _m("balanced_accuracy", "classification", True, "mean recall over classes"),
        _m("precision", "classification", True, "positive predictions that are right (macro if multiclass)"),
        _m("recall", "classification", True, "positive rows found (macro if multiclass)"),
        _m("f1", "classification", True, "harmonic mean of precision and recall"),
        _m("roc_auc", "classification", True, "area under the ROC curve (one-vs-rest if multiclass)"),
        _m("log_loss", "classification", False, "cross-entropy of the predicted probabilities"),
        _m("brier_score", "classification", False, "mean squared error of the probabilities"),
        _m("expected_calibration_error", "classification", False, "gap between confidence and accuracy"),
        _m("selection_rate", "classification", None, "share of rows predicted positive"),
        _m("false_positive_rate", "classification", False, "negative rows predicted positive"),
        _m("false_negative_rate", "classification", False, "positive rows predicted negative"),
        _m("rmse", "regression", False, "root mean squared error"),
        _m("mae", "regression", False, "mean absolute error"),
        _m("mape", "regression", False, "mean absolute percentage error, as a fraction (0.1 = 10%)"),
        _m("r2", "regression", True, "coefficient of determination"),
        _m("rows", "health", None, "rows in the scenario"),
        _m("refusal_rate", "health", None, "rows the input schema refused (a clean refusal)"),
        _m("error_rate", "health", False, "rows on which the model raised an error"),
        _m("nan_rate", "health", False, "rows scored to NaN, infinity or an unknown class"),
        _m("guard_flag_rate", "health", None, "rows a runtime guard flagged (artifacts built with guards)"),
        _m("mismatch_rate", "health", False, "scored rows whose prediction differs from the base row's"),
        _m("prediction_mean", "health", None, "mean prediction (probability of the positive class)"),
        _m("prediction_min", "health", None, "smallest prediction"),
        _m("prediction_max", "health", None, "largest prediction"),
        _m("latency_mean_ms", "computational", False, "mean single-row latency through the Scorer"),
        _m("latency_p50_ms", "computational", False, "median single-row latency"),
        _m("latency_p95_ms", "computational", False, "95th percentile single-row latency"),
        _m("latency_p99_ms", "computational", False, "99th percentile single-row latency"),
        _m("batch_latency_ms", "computational", False, "median time to score one batch"),
        _m("throughput_rows_per_s", "computational", True, "rows scored per second in batches"),
        _m("load_time_s", "computational", False, "time to verify and load the artifact"),
        _m("peak_memory_mb", "computational", False, "peak memory allocated while scoring one batch"),
        _m("artifact_size_mb", "computational", False, "total size of the artifact's files"),
        _m("changed_share", "stability", False, "rows whose class changes under a small perturbation"),
        _m("relative_change_mean", "stability", False, "mean relative output change under perturbation"),
        _m("relative_change_p95", "stability", False, "95th percentile relative output change"),
        _m("relative_change_max", "stability", False, "largest relative output change"),
        _m("flip_rate", "robustness", False, "rows for which the search found a flipping change"),
        _m("demographic_parity_difference", "fairness", False, "largest gap in selection rate"),
        _m("demographic_parity_ratio", "fairness", True, "smallest / largest selection rate"),
        _m("equalized_odds_difference", "fairness", False, "largest gap in TPR or FPR"),
        _m("equalized_odds_ratio", "fairness", True, "smallest ratio of TPR or FPR"),
        _m("parity_mismatch_rows", "parity", False, "rows where a compiled runtime differs from native"),
        _m("parity_max_abs_diff", "parity", False, "largest difference between runtimes"),
    )
}

LATENCY_SHARE = re.compile(r"share_latency_over_(\d+)ms")
GAP_SUFFIX = "_gap"


def metric_info(name: str) -> MetricInfo | None:
    """The catalog entry for ``name``, including the ``share_latency_over_<N>ms`` family."""
    if name in METRICS:
        return METRICS[name]
    match = LATENCY_SHARE.fullmatch(name)
    if match:
        return MetricInfo(name, "computational", False, f"share of single-row calls over {match[1]} ms")
    return None


def known_names() -> list[str]:
    return [*METRICS, "share_latency_over_200ms"]
