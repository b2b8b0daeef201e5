"""Each policy's row-level outcome: flag, reject, clip (inputs and outputs) and fallback
(a rule value and a fallback model stored in the artifact)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from slipway.artifacts.loader import LoadedArtifact
from slipway.examples import apartments, credit
from slipway.guards.stages import guard_stages
from slipway.scoring.scorer import Scorer
from support.examples import ExampleData
from support.guarded import apartments_spec, build_guarded, credit_spec

ONLY_DOMAIN = {"anomaly": False, "conformal": False, "output": False}


def scorer_for(artifact: LoadedArtifact) -> Scorer:
    return Scorer(artifact, stages=guard_stages(artifact))


def one_big_apartment(data: ExampleData) -> pd.DataFrame:
    rows = data.holdout.head(3).copy()
    rows.loc[rows.index[1], "surface"] = 400.0  # training max is 150
    return rows


@pytest.fixture
def build_apartments(tmp_path: Path, apartments_model: Any, apartments_data: ExampleData) -> Any:
    def build(guards: dict[str, Any], model: Any = None) -> Scorer:
        spec = apartments_spec(apartments_data)
        artifact = build_guarded(model or apartments_model, spec, tmp_path / "artifact", guards)
        return scorer_for(artifact)

    return build


def test_flag_scores_the_row_and_annotates_it(build_apartments: Any, apartments_data: ExampleData) -> None:
    scorer = build_apartments({**ONLY_DOMAIN, "domain": {"policy": "flag"}})
    rows = scorer.score_frame(one_big_apartment(apartments_data)).rows()

    assert [row["rejected"] for row in rows] == [False, False, False]
    assert all(row["prediction"] is not None for row in rows)
    assert [len(row["flags"]) for row in rows] == [0, 1, 0]
    assert rows[1]["flags"][0] | {"message": ""} == {
        "guard": "domain",
        "code": "above_range",
        "message": "",
        "action": "flag",
        "feature": "surface",
        "value": 400.0,
        "detail": {"interval": pytest.approx([11.4, 156.6])},
    }


def test_reject_returns_no_prediction_and_the_reason(
    build_apartments: Any, apartments_data: ExampleData
) -> None:
    scorer = build_apartments({**ONLY_DOMAIN, "domain": {"policy": "reject"}})
    rows = scorer.score_frame(one_big_apartment(apartments_data)).rows()

    assert [row["rejected"] for row in rows] == [False, True, False]
    assert rows[1]["prediction"] is None
    assert rows[1]["flags"][0]["action"] == "reject"
    assert (
        "surface = 400 is outside [11.4, 156.6] (the training range and its margin)"
        in rows[1]["flags"][0]["message"]
    )
    assert rows[0]["prediction"] is not None and rows[2]["prediction"] is not None


def test_clip_scores_the_input_clipped_into_its_interval(
    build_apartments: Any, apartments_data: ExampleData
) -> None:
    scorer = build_apartments({**ONLY_DOMAIN, "domain": {"policy": "clip", "margin": 0.0}})
    frame = one_big_apartment(apartments_data)
    at_max = frame.copy()
    at_max.loc[at_max.index[1], "surface"] = 150.0

    clipped = scorer.score_frame(frame).rows()
    reference = scorer.score_frame(at_max).rows()

    assert clipped[1]["flags"][0]["action"] == "clip"
    assert clipped[1]["prediction"] == reference[1]["prediction"]  # scored as if surface were 150
    assert frame["surface"].iloc[1] == 400.0  # the caller's data is not changed


def test_output_clip_brings_a_regression_output_into_its_bounds(
    build_apartments: Any, apartments_data: ExampleData
) -> None:
    scorer = build_apartments(
        {
            "domain": False,
            "anomaly": False,
            "conformal": False,
            "output": {"policy": "clip", "bounds": [0, 500_000]},
        }
    )
    rows = scorer.score_frame(apartments_data.holdout.head(20)).rows()

    predictions = [row["prediction"] for row in rows]
    assert max(predictions) == 500_000
    clipped = [row for row in rows if row["flags"]]
    assert clipped and all(row["flags"][0]["action"] == "clip" for row in clipped)
    assert all(row["flags"][0]["value"] > 500_000 for row in clipped)  # the model's own output is kept


def test_fallback_rule_answers_for_rejected_inputs(
    build_apartments: Any, apartments_data: ExampleData
) -> None:
    scorer = build_apartments(
        {**ONLY_DOMAIN, "domain": {"policy": "fallback"}, "fallback": {"rule": 123_456.0}}
    )
    rows = scorer.score_frame(one_big_apartment(apartments_data)).rows()

    assert rows[1]["prediction"] == 123_456.0
    assert rows[1]["rejected"] is False
    assert rows[1]["flags"][0]["action"] == "fallback"
    assert rows[0]["prediction"] != 123_456.0


def test_fallback_model_stored_in_the_artifact_answers(
    build_apartments: Any, apartments_data: ExampleData
) -> None:
    features = list(apartments.FEATURES)
    simple = LinearRegression().fit(apartments_data.train[features], apartments_data.train[apartments.TARGET])
    scorer = build_apartments(
        {**ONLY_DOMAIN, "domain": {"policy": "fallback"}, "fallback": {"model": simple}}
    )
    frame = one_big_apartment(apartments_data)

    rows = scorer.score_frame(frame).rows()

    assert scorer.artifact.manifest.has_file("profile/guards/fallback/model/model.skops")
    assert rows[1]["prediction"] == pytest.approx(float(simple.predict(frame[features].iloc[[1]])[0]))
    assert rows[1]["flags"][0]["action"] == "fallback"


def test_classifier_fallback_rule_gives_its_class_and_certain_probabilities(
    tmp_path: Path, credit_model: Any, credit_data: ExampleData
) -> None:
    guards = {"anomaly": False, "conformal": {"policy": "fallback"}, "output": False, "fallback": {"rule": 1}}
    artifact = build_guarded(credit_model, credit_spec(credit_data), tmp_path / "artifact", guards)
    rows = scorer_for(artifact).score_frame(credit_data.holdout.head(40)).rows()

    ambiguous = [row for row in rows if any(f["guard"] == "conformal" for f in row["flags"])]
    assert ambiguous
    for row in ambiguous:
        assert (row["prediction"], row["probabilities"], row["prediction_set"]) == (
            1,
            {"0": 0.0, "1": 1.0},
            None,
        )


def test_classifier_fallback_model_gives_its_probabilities(
    tmp_path: Path, credit_model: Any, credit_data: ExampleData
) -> None:
    simple = credit.pipeline(max_iter=5).fit(
        credit_data.train[list(credit.FEATURES)], credit_data.train[credit.TARGET]
    )
    guards = {"domain": {"policy": "fallback"}, "anomaly": False, "conformal": False, "output": False}
    guards["fallback"] = {"model": simple}
    artifact = build_guarded(credit_model, credit_spec(credit_data), tmp_path / "artifact", guards)
    rows = credit_data.holdout.head(3).copy()
    rows.loc[rows.index[0], "income"] = 1e7

    scored = scorer_for(artifact).score_frame(rows).rows()

    expected = simple.predict_proba(rows[list(credit.FEATURES)].iloc[[0]])[0]
    assert scored[0]["flags"][0]["action"] == "fallback"
    assert scored[0]["probabilities"] == {"0": pytest.approx(expected[0]), "1": pytest.approx(expected[1])}
    assert scored[1]["flags"] == []


def test_uncertain_classifier_rows_are_flagged_below_the_certainty_threshold(
    guarded_credit: LoadedArtifact, credit_data: ExampleData
) -> None:
    scored = scorer_for(guarded_credit).score_frame(credit_data.holdout)
    top = np.nanmax(scored.probabilities, axis=1)
    flagged = np.asarray([any(f.guard == "output" for f in flags) for flags in scored.flags])

    assert flagged.any()
    np.testing.assert_array_equal(flagged, top < 0.65)


def test_unknown_categories_and_forbidden_missing_values_are_flagged(
    tmp_path: Path, credit_model: Any, credit_data: ExampleData
) -> None:
    guards = {
        "domain": {"allow_missing": {"credit_history_years": False}},
        "anomaly": False,
        "conformal": False,
        "output": False,
    }
    artifact = build_guarded(credit_model, credit_spec(credit_data), tmp_path / "artifact", guards)
    rows = credit_data.holdout.head(3).copy()
    rows["purpose"] = rows["purpose"].astype(object)
    rows.loc[rows.index[0], "purpose"] = "yacht"
    rows.loc[rows.index[1], "credit_history_years"] = None

    scored = scorer_for(artifact).score_frame(rows).rows()

    unknown, missing = scored[0]["flags"][0], scored[1]["flags"][0]
    assert (unknown["code"], unknown["feature"], unknown["value"]) == ("unknown_category", "purpose", "yacht")
    assert set(unknown["detail"]["known"]) == set(credit.PURPOSE)
    assert (missing["code"], missing["feature"]) == ("missing", "credit_history_years")
    assert scored[2]["flags"] == []
