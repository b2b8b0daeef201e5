"""Probe scenarios (stability, robustness): run the probe a scenario spec asks for, with its defaults."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slipway.core.profile import FeatureProfile
from slipway.scoring.scorer import Scorer
from slipway.validation import robustness, stability
from slipway.validation.plan import ScenarioSpec


def default_rows(spec: ScenarioSpec) -> int:
    return spec.rows or (stability.DEFAULT_ROWS if spec.kind == "stability" else robustness.DEFAULT_ROWS)


def purpose(spec: ScenarioSpec) -> str:
    if spec.purpose:
        return spec.purpose
    if spec.kind == "stability":
        return f"small perturbations of each numeric feature of {spec.from_}"
    return f"a bounded search for small changes that flip predictions on {spec.from_}"


def run_probe(
    scorer: Scorer,
    spec: ScenarioSpec,
    sample: pd.DataFrame,
    profiles: list[FeatureProfile],
    *,
    task: str,
    rng: np.random.Generator,
) -> tuple[dict[str, float], dict[str, Any]]:
    """The probe's metrics and the details the report shows (ranking, or examples of flips)."""
    if spec.kind == "stability":
        probes = stability.perturbations(
            sample,
            profiles,
            relative=spec.relative if spec.relative is not None else stability.DEFAULT_RELATIVE,
            absolute=spec.absolute or {},
            noise=spec.noise or 0.0,
            rng=rng,
        )
        found = stability.measure(scorer, sample, probes, task=task)
        return found.metrics, {"ranking": found.ranking}
    probed = robustness.probe(
        scorer,
        sample,
        profiles,
        task=task,
        epsilon=spec.epsilon if spec.epsilon is not None else robustness.DEFAULT_EPSILON,
        budget=spec.budget or robustness.DEFAULT_BUDGET,
        threshold=spec.threshold if spec.threshold is not None else robustness.DEFAULT_THRESHOLD,
        rng=rng,
        explicit=spec.features is not None,
    )
    return probed.metrics, {"examples": probed.examples, "queries": probed.queries}
