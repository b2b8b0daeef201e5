"""Resampling statistics: bootstrap intervals, the paired bootstrap, and McNemar's exact test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray], float]


def interval(
    statistic: Statistic, n_rows: int, *, resamples: int, confidence: float, rng: np.random.Generator
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic(row_positions)``; None when undefined."""
    if n_rows < 2:
        return None
    values = np.array([statistic(rng.integers(0, n_rows, n_rows)) for _ in range(resamples)])
    values = values[np.isfinite(values)]
    if values.size < resamples // 2:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def paired_p_worse(
    challenger: Statistic,
    champion: Statistic,
    n_rows: int,
    *,
    higher_is_better: bool,
    resamples: int,
    rng: np.random.Generator,
) -> float:
    """One-sided p-value of "the challenger is worse", from resampling the same rows for both.

    It is the share of resamples (with the usual +1 correction) in which the challenger is *not*
    worse: small when the challenger is worse on nearly every resample.
    """
    not_worse = 0
    for _ in range(resamples):
        rows = rng.integers(0, n_rows, n_rows)
        difference = challenger(rows) - champion(rows)
        worse = difference < 0 if higher_is_better else difference > 0
        not_worse += int(not worse)
    return (not_worse + 1) / (resamples + 1)


@dataclass(frozen=True)
class McNemar:
    #: rows the champion got right and the challenger wrong, and the reverse
    champion_only: int
    challenger_only: int
    p_worse: float
    p_two_sided: float


def mcnemar(champion_correct: np.ndarray, challenger_correct: np.ndarray) -> McNemar:
    """McNemar's exact test on paired correctness (a binomial test on the discordant rows)."""
    from scipy.stats import binomtest

    champion_only = int(np.sum(champion_correct & ~challenger_correct))
    challenger_only = int(np.sum(~champion_correct & challenger_correct))
    discordant = champion_only + challenger_only
    if discordant == 0:
        return McNemar(0, 0, 1.0, 1.0)
    worse = binomtest(champion_only, discordant, 0.5, alternative="greater").pvalue
    both = binomtest(champion_only, discordant, 0.5, alternative="two-sided").pvalue
    return McNemar(champion_only, challenger_only, float(worse), float(both))
