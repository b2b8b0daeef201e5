"""The hand-written baselines: a minimal Starlette + orjson endpoint calling the model directly.

Run as ``python baseline_app.py sklearn|onnx ARTIFACT PORT``. The scikit-learn baseline calls
``predict_proba`` on a (1, 30) numpy array; the onnxruntime one runs the artifact's verified ONNX
file on a float32 array: the floor slipway is compared with.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(kind: str, artifact: Path) -> Starlette:
    from slipway.artifacts.loader import load_artifact

    loaded = load_artifact(artifact)
    features = list(loaded.features)
    if kind == "sklearn":
        estimator = loaded.runner.estimator  # type: ignore[attr-defined]
        # fitted on a DataFrame: predicting on numpy warns on every call; the baseline skips that
        warnings.filterwarnings("ignore", message="X does not have valid feature names")

        def predict(row: list[float]) -> list[float]:
            return estimator.predict_proba(np.asarray([row]))[0].tolist()  # type: ignore[no-any-return]

    else:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(next((artifact / "runtime").glob("*.onnx"))), options)
        name = session.get_inputs()[0].name
        outputs = [node.name for node in session.get_outputs()][:2]

        def predict(row: list[float]) -> list[float]:
            result = session.run(outputs, {name: np.asarray([row], dtype=np.float32)})
            return np.asarray(result[1]).reshape(-1).tolist()  # type: ignore[no-any-return]

    async def endpoint(request: Request) -> Response:
        record = orjson.loads(await request.body())
        probabilities = predict([record[feature] for feature in features])
        body = {"prediction": int(np.argmax(probabilities)), "probabilities": probabilities}
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/predict", endpoint, methods=["POST"])])


if __name__ == "__main__":
    kind, artifact, port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    uvicorn.run(build(kind, artifact), host="127.0.0.1", port=port, log_level="warning", access_log=False)
