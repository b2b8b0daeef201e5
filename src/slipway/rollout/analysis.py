"""Canary analysis: is the candidate worse than stable? Pure functions over summed stats windows.

Each check compares candidate with stable on one signal and says pass, fail, or "not enough data
yet" (``passed is None``). A failed check rolls back at once, even before the step's minimum
requests, because a clear defect needs no more evidence; promotion needs every check to pass
(or to lack data) and the step's minimum requests and time.

- errors and guard flags: a one-sided two-proportion z test (candidate higher) at ``alpha``,
  and a difference above a margin so that a tiny, harmless increase never rolls back;
- latency: the ratio of p95s (and a margin in ms, since sub-millisecond p95s are noise);
- predictions: the population stability index and a two-sample Kolmogorov-Smirnov test;
- model metric, when outcomes exist: mean absolute error per slot, Welch's t test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats as st

from slipway.core.deployment import StatsWindow
from slipway.rollout.policy import Thresholds
from slipway.rollout.sketch import merge_counts, quantile_ms

_PSI_BINS = 10
_CATEGORICAL_VALUES = 20
_EPS = 1e-4


class Decision(StrEnum):
    PROMOTE = "promote"
    HOLD = "hold"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class SlotSummary:
    requests: int = 0
    errors: int = 0
    flagged: int = 0
    latency_counts: tuple[int, ...] = ()
    predictions: tuple[float, ...] = ()
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.requests if self.requests else 0.0

    def p95_ms(self) -> float | None:
        return quantile_ms(self.latency_counts, 0.95)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "flagged": self.flagged,
            "error_rate": round(self.error_rate, 6),
            "flag_rate": round(self.flag_rate, 6),
            "p50_ms": quantile_ms(self.latency_counts, 0.5),
            "p95_ms": self.p95_ms(),
            "predictions_sampled": len(self.predictions),
            **{key: round(value, 6) for key, value in sorted(self.extra.items())},
        }


def summarize(windows: Iterable[StatsWindow], *, slot: str, version: int) -> SlotSummary:
    """Sum the windows of one slot and version (from every worker and replica)."""
    chosen = [w for w in windows if w.slot == slot and w.version == version]
    extra: dict[str, float] = {}
    for window in chosen:
        for key, value in window.extra.items():
            extra[key] = extra.get(key, 0.0) + value
    return SlotSummary(
        requests=sum(w.requests for w in chosen),
        errors=sum(w.errors for w in chosen),
        flagged=sum(w.flagged for w in chosen),
        latency_counts=tuple(merge_counts(w.latency_counts for w in chosen)),
        predictions=tuple(p for w in chosen for p in w.predictions),
        extra=extra,
    )


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool | None  # None: not enough data yet
    detail: str
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    stable: SlotSummary
    candidate: SlotSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": str(self.decision),
            "reasons": list(self.reasons),
            "checks": [check.to_dict() for check in self.checks],
            "stable": self.stable.to_dict(),
            "candidate": self.candidate.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class StepProgress:
    """How far the current step is: requests the candidate answered and seconds it has run."""

    min_requests: int
    min_seconds: float
    elapsed_s: float


def analyze(
    stable: SlotSummary,
    candidate: SlotSummary,
    thresholds: Thresholds,
    progress: StepProgress,
    *,
    outcome_errors: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Verdict:
    """Decide promote / hold / rollback for one canary step, with the reasons."""
    checks = [
        proportion_check("error rate", stable.errors, stable.requests, candidate.errors, candidate.requests,
                         margin=thresholds.max_error_increase, alpha=thresholds.alpha),
        proportion_check("guard flag rate", stable.flagged, stable.requests, candidate.flagged,
                         candidate.requests, margin=thresholds.max_flag_increase, alpha=thresholds.alpha),
        latency_check(stable, candidate, thresholds),
        prediction_check(stable.predictions, candidate.predictions, thresholds),
    ]  # fmt: skip
    if outcome_errors is not None:
        checks.append(metric_check(*outcome_errors, thresholds))
    failed = [check for check in checks if check.passed is False]
    if failed:
        return Verdict(Decision.ROLLBACK, tuple(c.detail for c in failed), tuple(checks), stable, candidate)
    waiting = []
    if candidate.requests < progress.min_requests:
        waiting.append(f"candidate answered {candidate.requests} of {progress.min_requests} requests")
    if progress.elapsed_s < progress.min_seconds:
        waiting.append(f"step has run {progress.elapsed_s:.0f} of {progress.min_seconds:.0f} s")
    decision = Decision.HOLD if waiting else Decision.PROMOTE
    reasons = waiting or ["every check passed or has too little data to object"]
    return Verdict(decision, tuple(reasons), tuple(checks), stable, candidate)


def proportion_check(
    name: str, stable_hits: int, stable_n: int, cand_hits: int, cand_n: int, *, margin: float, alpha: float
) -> Check:
    """Fail when the candidate's rate is significantly higher (one-sided z) and by more than ``margin``."""
    if cand_n == 0:
        return Check(name, None, f"{name}: no candidate requests yet")
    cand_rate = cand_hits / cand_n
    stable_rate = stable_hits / stable_n if stable_n else 0.0
    p_value = _one_sided_proportion_p(stable_hits, stable_n, cand_hits, cand_n, margin)
    worse = p_value < alpha and cand_rate - stable_rate > margin
    detail = (
        f"{name}: candidate {cand_rate:.1%} ({cand_hits}/{cand_n}) vs stable {stable_rate:.1%} "
        f"({stable_hits}/{stable_n}), one-sided p={p_value:.2g} (alpha {alpha:g}), margin {margin:.1%}"
    )
    return Check(name, not worse, detail, value=cand_rate - stable_rate, threshold=margin)


def _one_sided_proportion_p(s_hits: int, s_n: int, c_hits: int, c_n: int, margin: float) -> float:
    if s_n == 0:  # nothing to compare with: test the candidate against the margin alone
        return float(
            st.binomtest(c_hits, c_n, p=min(max(margin, _EPS), 1 - _EPS), alternative="greater").pvalue
        )
    pooled = (s_hits + c_hits) / (s_n + c_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / s_n + 1 / c_n))
    diff = c_hits / c_n - s_hits / s_n
    if se == 0:
        return 0.0 if diff > 0 else 1.0
    return float(st.norm.sf(diff / se))


def latency_check(stable: SlotSummary, candidate: SlotSummary, thresholds: Thresholds) -> Check:
    s_n, c_n = sum(stable.latency_counts), sum(candidate.latency_counts)
    if min(s_n, c_n) < thresholds.min_latency_samples:
        return Check("latency p95", None, f"latency p95: {c_n} candidate / {s_n} stable samples so far")
    s95, c95 = stable.p95_ms() or 0.0, candidate.p95_ms() or 0.0
    ratio = c95 / s95 if s95 > 0 else math.inf
    worse = ratio > thresholds.latency_p95_ratio and c95 - s95 > thresholds.latency_margin_ms
    detail = (
        f"latency p95: candidate {c95:.2f} ms vs stable {s95:.2f} ms, ratio {ratio:.2f} "
        f"(limit {thresholds.latency_p95_ratio:g}x and +{thresholds.latency_margin_ms:g} ms)"
    )
    return Check("latency p95", not worse, detail, value=ratio, threshold=thresholds.latency_p95_ratio)


def prediction_check(stable: Sequence[float], candidate: Sequence[float], thresholds: Thresholds) -> Check:
    """Fail when the distributions differ by PSI above the limit *and* by a significant KS test."""
    if min(len(stable), len(candidate)) < thresholds.min_samples:
        return Check(
            "prediction distribution",
            None,
            f"prediction distribution: {len(candidate)} candidate / {len(stable)} stable samples so far",
        )
    index = psi(stable, candidate)
    ks = st.ks_2samp(np.asarray(stable, dtype=float), np.asarray(candidate, dtype=float))
    shifted = index > thresholds.max_psi and float(ks.pvalue) < thresholds.ks_alpha
    detail = (
        f"prediction distribution: PSI {index:.3f} (limit {thresholds.max_psi:g}), "
        f"KS statistic {float(ks.statistic):.3f} p={float(ks.pvalue):.2g} (alpha {thresholds.ks_alpha:g})"
    )
    return Check("prediction distribution", not shifted, detail, value=index, threshold=thresholds.max_psi)


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Few distinct values (class labels) are compared value by value; otherwise in deciles of
    ``expected``.
    """
    e, a = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    values = np.unique(np.concatenate([e, a]))
    if len(values) <= _CATEGORICAL_VALUES:
        e_share = np.array([(e == v).mean() for v in values])
        a_share = np.array([(a == v).mean() for v in values])
    else:
        inner = np.unique(np.quantile(e, np.linspace(0, 1, _PSI_BINS + 1)[1:-1]))
        e_share = np.bincount(np.searchsorted(inner, e, side="right"), minlength=len(inner) + 1) / len(e)
        a_share = np.bincount(np.searchsorted(inner, a, side="right"), minlength=len(inner) + 1) / len(a)
    e_share, a_share = np.clip(e_share, _EPS, None), np.clip(a_share, _EPS, None)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def metric_check(
    stable_errors: Sequence[float], cand_errors: Sequence[float], thresholds: Thresholds
) -> Check:
    """Absolute errors of predictions against posted outcomes: fail when the candidate's mean is
    significantly higher (Welch, one-sided) and above ``metric_ratio`` times stable's."""
    if min(len(stable_errors), len(cand_errors)) < thresholds.min_samples:
        return Check(
            "model metric",
            None,
            f"model metric: {len(cand_errors)} candidate / {len(stable_errors)} stable outcomes so far",
        )
    s_mean, c_mean = float(np.mean(stable_errors)), float(np.mean(cand_errors))
    test = st.ttest_ind(cand_errors, stable_errors, equal_var=False, alternative="greater")
    p_value = float(test.pvalue) if math.isfinite(float(test.pvalue)) else (0.0 if c_mean > s_mean else 1.0)
    ratio = c_mean / s_mean if s_mean > 0 else (math.inf if c_mean > 0 else 1.0)
    worse = p_value < thresholds.alpha and ratio > thresholds.metric_ratio
    detail = (
        f"model metric: candidate mean absolute error {c_mean:.4g} vs stable {s_mean:.4g} "
        f"(ratio {ratio:.2f}, limit {thresholds.metric_ratio:g}), Welch p={p_value:.2g}"
    )
    return Check("model metric", not worse, detail, value=ratio, threshold=thresholds.metric_ratio)


def shadow_report(stable: SlotSummary, candidate: SlotSummary) -> dict[str, Any]:
    """What a shadow candidate did with its copies: agreement with stable, deltas, its own latency."""
    compared = candidate.extra.get("shadow_compared", 0.0)
    return {
        "copies": candidate.requests,
        "candidate_errors": candidate.errors,
        "compared": int(compared),
        "agreement": candidate.extra.get("shadow_agreed", 0.0) / compared if compared else None,
        "mean_abs_delta": candidate.extra.get("shadow_abs_delta", 0.0) / compared if compared else None,
        "candidate_p50_ms": quantile_ms(candidate.latency_counts, 0.5),
        "candidate_p95_ms": candidate.p95_ms(),
        "stable_p95_ms": stable.p95_ms(),
    }
