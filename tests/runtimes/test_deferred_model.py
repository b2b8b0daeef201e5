"""Batch workers on the compiled runtime never deserialise the native model; when they do, its
files are hashed again first."""

from __future__ import annotations

import pytest

from slipway.adapters.batch_scorer import artifact_scorer
from slipway.artifacts.deferred import DeferredRunner
from slipway.artifacts.loader import load_artifact
from slipway.batch.worker import ArtifactSpec, default_scorer, scorer_for
from slipway.core.errors import IntegrityError


def test_a_scorer_on_the_compiled_runtime_leaves_the_native_model_unloaded(
    compiled_apartments, apartments_data
) -> None:
    artifact = load_artifact(compiled_apartments.path, defer_model=True)
    scorer = artifact_scorer(artifact)
    scored = scorer.score_frame(apartments_data.holdout.head(50))
    assert scored.runtime == "onnx" and len(scored) == 50
    assert isinstance(artifact.runner, DeferredRunner) and not artifact.runner.is_loaded
    assert artifact.runner.classes == artifact.classes


def test_a_worker_scoring_natively_loads_the_model_before_its_first_chunk(apartments_artifact) -> None:
    spec = ArtifactSpec(str(apartments_artifact.path), apartments_artifact.manifest.digest)
    scorer = scorer_for(spec)
    assert scorer.runtime_name == "native"
    assert isinstance(scorer.artifact.runner, DeferredRunner) and scorer.artifact.runner.is_loaded
    assert default_scorer(scorer.artifact).runtime_name == "native"


def test_a_model_file_changed_before_the_deferred_load_is_refused(
    compiled_apartments, copy_artifact, apartments_data
) -> None:
    folder = copy_artifact(compiled_apartments)
    artifact = load_artifact(folder, defer_model=True)
    model_file = next(p for p in (folder / "model").rglob("*") if p.is_file())
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(
        IntegrityError, match=r"artifact file 'model/.+' was modified after the artifact was loaded"
    ):
        artifact.runner.predict(apartments_data.holdout.head(1))
