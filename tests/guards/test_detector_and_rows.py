"""The stored mixture scored with numpy equals scikit-learn's own density; lazy per-row extras
behave as lists; the stored guards are plain JSON numbers verified by the manifest."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.mixture import GaussianMixture

from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.core.errors import IntegrityError
from slipway.guards.anomaly import AnomalyDetector, fit_anomaly
from slipway.guards.config import AnomalyConfig
from slipway.guards.rows import RowValues
from slipway.guards.stages import stored_guards


def test_the_numpy_density_equals_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    train = pd.DataFrame(
        {"a": rng.normal(0, 1, 800), "b": rng.normal(5, 3, 800), "c": rng.exponential(2, 800)}
    )
    fitted = fit_anomaly(AnomalyConfig.model_validate({}), train, train.head(200), ("a", "b", "c"))
    mixture = GaussianMixture(len(fitted["weights"]), covariance_type="full", reg_covar=1e-4, random_state=0)
    standard = (train.to_numpy() - fitted["mean"]) / fitted["scale"]
    mixture.fit(standard)

    ours = AnomalyDetector(fitted).score(train.to_numpy())

    np.testing.assert_allclose(ours, -mixture.score_samples(standard), rtol=1e-9)
    assert np.mean(ours > fitted["threshold"]) == pytest.approx(0.01, abs=0.01)


def test_missing_values_score_as_the_training_mean() -> None:
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"a": rng.normal(10, 1, 500), "b": rng.normal(-3, 2, 500)})
    fitted = fit_anomaly(AnomalyConfig.model_validate({}), train, train, ("a", "b"))
    detector = AnomalyDetector(fitted)

    scores = detector.score(np.array([[np.nan, np.nan], fitted["mean"]]))

    assert scores[0] == pytest.approx(scores[1])


def test_row_values_build_each_row_on_access_and_keep_overrides() -> None:
    made: list[int] = []

    def make(row: int) -> list[int]:
        made.append(row)
        return [row, row * 2]

    values = RowValues(4, make)
    assert made == []
    assert values[1] == [1, 2] and values[-1] == [3, 6]
    values[2] = None
    assert values == [[0, 0], [1, 2], None, [3, 6]]
    assert len(values) == 4 and values[1:3] == [[1, 2], None]
    with pytest.raises(IndexError):
        values[4]
    with pytest.raises(TypeError):
        values.append([9, 9])


def test_stored_guards_are_plain_json_listed_in_the_manifest(guarded_credit: LoadedArtifact) -> None:
    entry = guarded_credit.manifest.file("profile/guards/guards.json")
    text = (guarded_credit.path / entry.path).read_text()

    assert json.loads(text) == stored_guards(guarded_credit)
    assert set(stored_guards(guarded_credit)) == {"domain", "anomaly", "conformal", "output", "fallback"}
    assert not any(path.suffix in {".pkl", ".pickle", ".joblib"} for path in guarded_credit.path.rglob("*"))


def test_an_edited_guard_threshold_fails_verification(
    guarded_credit: LoadedArtifact, copy_artifact: Any
) -> None:
    folder = copy_artifact(guarded_credit.path)
    path = folder / "profile/guards/guards.json"
    document = json.loads(path.read_text())
    document["anomaly"]["threshold"] = 1e9  # silence the anomaly detector
    path.write_text(json.dumps(document))

    with pytest.raises(IntegrityError, match=r"profile/guards/guards\.json"):
        load_artifact(folder)
