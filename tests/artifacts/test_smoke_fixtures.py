from slipway.artifacts.loader import load_artifact
from slipway.scoring.scorer import Scorer


def test_example_artifacts_load_and_score(apartments_artifact, credit_artifact, apartments_data, credit_data):
    for artifact, data in ((apartments_artifact, apartments_data), (credit_artifact, credit_data)):
        scored = Scorer(load_artifact(artifact.path)).score_frame(data.holdout.head(50))
        assert len(scored) == 50
        assert not scored.rejected.any()
