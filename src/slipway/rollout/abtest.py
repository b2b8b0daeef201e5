"""The A/B readout: the candidate's effect on the outcome, with a confidence interval, a p-value
and the sample size still needed. Pure statistics over the outcome values of each arm.

Outcomes that are all 0/1 are conversions: a two-proportion z test (pooled for the p-value,
unpooled for the interval). Anything else is continuous: Welch's t test. The sample size per
arm for a minimum detectable effect ``mde`` at ``power`` uses the normal approximation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as st

from slipway.core.errors import InvalidInputError

DEFAULT_RELATIVE_MDE = 0.10  # without an MDE, size the test for a 10% change of the stable mean


@dataclass(frozen=True, slots=True)
class Readout:
    kind: str  # "conversion" or "continuous"
    test: str
    n_stable: int
    n_candidate: int
    mean_stable: float
    mean_candidate: float
    effect: float  # candidate minus stable
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    significant: bool
    mde: float
    power: float
    n_per_arm_needed: int
    n_more_needed: int  # in the smaller arm, 0 when the test already has its sample

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def readout(
    stable: Sequence[float],
    candidate: Sequence[float],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    mde: float | None = None,
) -> Readout:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InvalidInputError(
            f"alpha ({alpha}) and power ({power}) must be between 0 and 1, e.g. 0.05 and 0.8"
        )
    s, c = np.asarray(stable, dtype=float), np.asarray(candidate, dtype=float)
    if len(s) < 2 or len(c) < 2:
        raise InvalidInputError(
            f"an A/B readout needs at least 2 outcomes per arm; have {len(s)} stable and {len(c)} candidate: "
            "post outcomes with POST /v1/feedback or Slipway.feedback"
        )
    conversion = bool(np.isin(s, (0.0, 1.0)).all() and np.isin(c, (0.0, 1.0)).all())
    effect = float(c.mean() - s.mean())
    if conversion:
        p_value, se = _proportions(s, c)
        var_s = var_c = float(s.mean() * (1 - s.mean()))  # both arms at the baseline rate
        z_ci = float(st.norm.ppf(1 - alpha / 2))
        low, high = effect - z_ci * se, effect + z_ci * se
        test = "two-proportion z"
    else:
        result = st.ttest_ind(c, s, equal_var=False)
        p_value = float(result.pvalue) if math.isfinite(float(result.pvalue)) else 1.0
        interval = result.confidence_interval(confidence_level=1 - alpha)
        low, high = float(interval.low), float(interval.high)
        var_s, var_c = float(s.var(ddof=1)), float(c.var(ddof=1))
        test = "Welch t"
    size = mde if mde is not None else DEFAULT_RELATIVE_MDE * abs(float(s.mean())) or 0.01
    if size <= 0:
        raise InvalidInputError(f"minimum detectable effect must be > 0, got {mde}")
    needed = sample_size(var_s, var_c, size, alpha=alpha, power=power)
    return Readout(
        kind="conversion" if conversion else "continuous",
        test=test,
        n_stable=len(s),
        n_candidate=len(c),
        mean_stable=float(s.mean()),
        mean_candidate=float(c.mean()),
        effect=effect,
        ci_low=low,
        ci_high=high,
        confidence=1 - alpha,
        p_value=p_value,
        significant=p_value < alpha,
        mde=size,
        power=power,
        n_per_arm_needed=needed,
        n_more_needed=max(0, needed - min(len(s), len(c))),
    )


def _proportions(s: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Two-sided p-value (pooled standard error) and the unpooled standard error for the interval."""
    ps, pc = float(s.mean()), float(c.mean())
    pooled = (s.sum() + c.sum()) / (len(s) + len(c))
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / len(s) + 1 / len(c)))
    se = math.sqrt(ps * (1 - ps) / len(s) + pc * (1 - pc) / len(c))
    if se_pooled == 0:
        return (1.0 if pc == ps else 0.0), se
    return float(2 * st.norm.sf(abs(pc - ps) / se_pooled)), se


def sample_size(var_stable: float, var_candidate: float, mde: float, *, alpha: float, power: float) -> int:
    """Observations per arm to detect an absolute effect ``mde`` (two-sided ``alpha``, ``power``)."""
    z = float(st.norm.ppf(1 - alpha / 2) + st.norm.ppf(power))
    variance = max(var_stable + var_candidate, 1e-12)
    return math.ceil(z * z * variance / (mde * mde))
