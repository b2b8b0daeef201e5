"""Acceptance: conformal coverage at 90% on held-out rows of both examples, and the stored
quantile applied with numpy equals MAPIE's own predict_interval / predict_set."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from slipway.artifacts.builder import BuildSpec
from slipway.artifacts.loader import LoadedArtifact
from slipway.core.errors import InvalidInputError
from slipway.examples import apartments, credit
from slipway.guards.calibration import mapie_conformalizer
from slipway.guards.conformal import minimum_rows
from slipway.guards.stages import guard_stages, stored_guards
from slipway.scoring.scorer import Scorer
from support.examples import ExampleData
from support.guarded import apartments_spec, build_guarded, credit_spec


def native_scorer(artifact: LoadedArtifact) -> Scorer:
    return Scorer(artifact, stages=guard_stages(artifact))


def test_regression_intervals_cover_90_percent_of_held_out_apartments(
    guarded_apartments: LoadedArtifact, apartments_data: ExampleData, capsys: pytest.CaptureFixture[str]
) -> None:
    holdout = apartments_data.holdout
    scored = native_scorer(guarded_apartments).score_frame(holdout)
    intervals = np.asarray(scored.extras["interval"], dtype=float)
    truth = holdout[apartments.TARGET].to_numpy()

    covered = float(np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])))
    width = float(np.mean(intervals[:, 1] - intervals[:, 0]))
    with capsys.disabled():
        print(f"\napartments: observed coverage {covered:.1%} at 90%, mean interval width {width:,.0f}")
    assert abs(covered - 0.9) <= 0.03
    assert stored_guards(guarded_apartments)["conformal"]["calibration_rows"] == len(
        apartments_data.validation
    )


def test_classification_sets_cover_90_percent_of_held_out_credit(
    guarded_credit: LoadedArtifact, credit_data: ExampleData, capsys: pytest.CaptureFixture[str]
) -> None:
    holdout = credit_data.holdout
    scored = native_scorer(guarded_credit).score_frame(holdout)
    sets = scored.extras["prediction_set"]
    truth = holdout[credit.TARGET].tolist()

    covered = float(np.mean([label in chosen for label, chosen in zip(truth, sets, strict=True)]))
    size = float(np.mean([len(chosen) for chosen in sets]))
    ambiguous = sum(len(chosen) != 1 for chosen in sets)
    with capsys.disabled():
        print(f"\ncredit: observed coverage {covered:.1%} at 90%, mean set size {size:.2f}")
    assert abs(covered - 0.9) <= 0.03
    flagged = sum(any(f.guard == "conformal" for f in flags) for flags in scored.flags)
    assert flagged == ambiguous > 0  # a flag for every set that is not a single class


def test_stored_regression_quantile_gives_mapies_own_intervals(
    guarded_apartments: LoadedArtifact, apartments_data: ExampleData
) -> None:
    mapie = mapie_conformalizer(
        guarded_apartments.runner,
        task="regression",
        coverage=0.9,
        frame=apartments_data.validation,
        features=apartments.FEATURES,
        target=apartments.TARGET,
    )
    _, expected = mapie.predict_interval(apartments_data.holdout[list(apartments.FEATURES)])

    scored = native_scorer(guarded_apartments).score_frame(apartments_data.holdout)

    np.testing.assert_allclose(np.asarray(scored.extras["interval"]), expected[:, :, 0], rtol=1e-12)


def test_stored_classification_quantile_gives_mapies_own_sets(
    guarded_credit: LoadedArtifact, credit_data: ExampleData
) -> None:
    mapie = mapie_conformalizer(
        guarded_credit.runner,
        task="classification",
        coverage=0.9,
        frame=credit_data.validation,
        features=credit.FEATURES,
        target=credit.TARGET,
    )
    _, expected = mapie.predict_set(credit_data.holdout[list(credit.FEATURES)])
    classes = list(guarded_credit.classes or ())
    expected_sets = [
        [c for c, inside in zip(classes, row, strict=True) if inside] for row in expected[:, :, 0]
    ]

    scored = native_scorer(guarded_credit).score_frame(credit_data.holdout)

    assert scored.extras["prediction_set"] == expected_sets


@pytest.mark.parametrize(("coverage", "rows"), [(0.9, 8), (0.99, 98)], ids=["90%", "99%"])
def test_a_calibration_set_too_small_for_the_coverage_is_a_build_error(
    tmp_path: Any, apartments_model: Any, apartments_data: ExampleData, coverage: float, rows: int
) -> None:
    assert minimum_rows(coverage) == rows + 1
    spec = apartments_spec(apartments_data, validation=apartments_data.validation.head(rows))
    guards = {"conformal": {"coverage": coverage}}

    with pytest.raises(
        InvalidInputError, match=rf"coverage {coverage} needs at least {rows + 1} calibration rows"
    ):
        build_guarded(apartments_model, spec, tmp_path / "artifact", guards)
    assert not (tmp_path / "artifact").exists()  # nothing half-written


def test_conformal_is_left_out_by_default_without_validation_data(
    tmp_path: Any, credit_model: Any, credit_data: ExampleData
) -> None:
    spec: BuildSpec = credit_spec(credit_data, validation=None)
    artifact = build_guarded(credit_model, spec, tmp_path / "artifact")

    section = artifact.manifest.sections["guards"]
    assert "conformal" not in section["guards"]
    assert section["conformal_skipped"] == "no validation data with the target to calibrate on"
