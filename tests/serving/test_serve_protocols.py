"""Each protocol end to end against a real uvicorn: slipway JSON, Open Inference v2 (with Triton's
own HTTP client), MLflow's /invocations, and the OpenAPI document."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slipway.examples import apartments
from support.live_server import APARTMENT


@pytest.fixture
def apartments_server(serve_app, apartments_served, zip_db):
    return serve_app(apartments_served.path, environ={apartments.ZIP_DB_URL_ENV: zip_db})


@pytest.fixture
def credit_server(serve_app, credit_served):
    return serve_app(credit_served.path)


def predict(server, body, **options):
    with server.client() as client:
        return client.post("/v1/models/apartments/predict", json=body, **options)


def test_v1_records_columns_and_one_record_give_the_same_answer(apartments_server, apartments_served):
    other = {**APARTMENT, "zip_code": "75016", "surface": 30.0}
    many = predict(apartments_server, {"records": [APARTMENT, other]})
    one = predict(apartments_server, {"records": APARTMENT})
    columns = predict(apartments_server, {"columns": {k: [APARTMENT[k], other[k]] for k in APARTMENT}})
    assert many.status_code == one.status_code == columns.status_code == 200, many.text
    body = many.json()
    assert [row["prediction"] for row in body["predictions"]] == [
        row["prediction"] for row in columns.json()["predictions"]
    ]
    assert one.json()["predictions"][0]["prediction"] == body["predictions"][0]["prediction"]
    assert body["predictions"][0]["prediction"] != body["predictions"][1]["prediction"]
    assert body["model"] == {
        "name": "apartments",
        "version": None,
        "digest": apartments_served.manifest.digest,
        "runtime": "onnx",
    }
    assert body["degraded"] is False and body["degraded_reason"] is None
    assert body["request_id"] == many.headers["x-request-id"]
    assert set(body["timing"]) >= {"total_ms", "queue_ms", "score_ms", "predict_ms", "batch_rows"}
    row = body["predictions"][0]
    assert row["rejected"] is False and row["flags"] == []


def test_v1_answer_matches_the_scorer_in_process(apartments_server, apartments_served, zip_db):
    from slipway.api import Slipway

    with Slipway.from_env(home=str(apartments_served.path.parent / "home")) as sw:
        scorer = sw.scorer(apartments_served.path, environ={apartments.ZIP_DB_URL_ENV: zip_db})
        expected = scorer.score_records([APARTMENT]).row(0)
    assert predict(apartments_server, {"records": [APARTMENT]}).json()["predictions"][0] == expected


def test_a_client_request_id_is_kept_and_a_bad_one_replaced(apartments_server):
    mine = predict(apartments_server, {"records": [APARTMENT]}, headers={"X-Request-ID": "order-42.a"})
    assert mine.headers["x-request-id"] == "order-42.a" and mine.json()["request_id"] == "order-42.a"
    bad = predict(apartments_server, {"records": [APARTMENT]}, headers={"X-Request-ID": "x" * 500})
    assert bad.headers["x-request-id"] != "x" * 500 and len(bad.headers["x-request-id"]) == 32


def test_lookup_miss_is_rejected_with_a_flag_and_the_rest_scored(apartments_server):
    body = predict(apartments_server, {"records": [APARTMENT, {**APARTMENT, "zip_code": "99999"}]}).json()
    good, unknown = body["predictions"]
    assert good["rejected"] is False and good["prediction"] > 0
    assert unknown["rejected"] is True and unknown["prediction"] is None
    assert [flag["code"] for flag in unknown["flags"]] == ["lookup_miss"]


def test_classifier_answers_carry_probabilities(credit_server, credit_record):
    with credit_server.client() as client:
        response = client.post("/v1/models/credit/predict", json={"records": [credit_record]})
    assert response.status_code == 200, response.text
    row = response.json()["predictions"][0]
    assert response.json()["model"]["runtime"] == "native"
    assert set(row["probabilities"]) == {"0", "1"}
    assert sum(row["probabilities"].values()) == pytest.approx(1.0)
    assert str(row["prediction"]) == max(row["probabilities"], key=row["probabilities"].get)


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": list(APARTMENT), "data": [list(APARTMENT.values())]}},
        {"dataframe_records": [APARTMENT]},
        {"instances": [APARTMENT]},
        {"inputs": {k: [v] for k, v in APARTMENT.items()}},
        {"inputs": [APARTMENT]},
    ],
    ids=["dataframe_split", "dataframe_records", "instances", "inputs-columns", "inputs-records"],
)
def test_mlflow_invocations_formats(apartments_server, body):
    expected = predict(apartments_server, {"records": [APARTMENT]}).json()["predictions"][0]["prediction"]
    with apartments_server.client() as client:
        response = client.post("/invocations", json=body)
        ping = client.get("/ping")
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [expected]}
    assert response.headers["x-slipway-model"].startswith("apartments:")
    assert ping.status_code == 200


def test_open_inference_protocol_with_tritons_http_client(apartments_server):
    import tritonclient.http as triton

    expected = [
        row["prediction"]
        for row in predict(
            apartments_server, {"records": [APARTMENT, {**APARTMENT, "zip_code": "75016"}]}
        ).json()["predictions"]
    ]
    client = triton.InferenceServerClient(url=f"127.0.0.1:{apartments_server.port}")
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("apartments")
        metadata = client.get_model_metadata("apartments")
        assert metadata["name"] == "apartments"
        assert {tensor["name"] for tensor in metadata["inputs"]} == set(APARTMENT)
        for binary in (True, False):  # Triton's default binary tensors, and JSON tensors
            inputs = []
            for name in APARTMENT:
                values = np.asarray([APARTMENT[name], "75016" if name == "zip_code" else APARTMENT[name]])
                if name == "zip_code":
                    tensor = triton.InferInput(name, [2], "BYTES")
                    tensor.set_data_from_numpy(values.astype(object), binary_data=binary)
                else:
                    tensor = triton.InferInput(name, [2], "FP64")
                    tensor.set_data_from_numpy(values.astype(np.float64), binary_data=binary)
                inputs.append(tensor)
            outputs = [triton.InferRequestedOutput(name, binary_data=False) for name in ("predict", "flags")]
            result = client.infer("apartments", inputs, outputs=None if binary else outputs)
            assert result.as_numpy("predict").tolist() == pytest.approx(expected)
            assert [json.loads(flags) for flags in result.as_numpy("flags").tolist()] == [[], []]
            response = result.get_response()
            assert response["model_name"] == "apartments" and response["parameters"]["runtime"] == "onnx"
    finally:
        client.close()


def test_open_inference_protocol_matrix_input_and_versioned_paths(credit_server, credit_record):
    # A model with string features: one tensor per column; check versions in paths too.
    version = credit_server.state.model.version_label
    inputs = [
        {
            "name": name,
            "shape": [1, 1],
            "datatype": "BYTES" if isinstance(value, str) else "FP64",
            "data": [[value]],
        }
        for name, value in credit_record.items()
    ]
    with credit_server.client() as client:
        answer = client.post(
            f"/v2/models/credit/versions/{version}/infer", json={"id": "r1", "inputs": inputs}
        )
        wrong = client.post("/v2/models/credit/versions/999/infer", json={"inputs": inputs})
        metadata = client.get("/v2/models/credit").json()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "r1" and body["model_version"] == version
    names = [output["name"] for output in body["outputs"]]
    assert names == ["predict", "predict_proba", "rejected", "flags"]
    proba = body["outputs"][1]
    assert proba["shape"] == [1, 2] and sum(proba["data"]) == pytest.approx(1.0)
    assert wrong.status_code == 404 and wrong.json()["error"]["kind"] == "not_found"
    assert metadata["versions"] == [version]


def test_a_single_matrix_tensor_holds_every_column(serve_app, apartments_artifact):
    # The apartments model built without its lookup takes five numbers: one [n, k] FP64 tensor.
    from slipway.examples import apartments as example

    server = serve_app(apartments_artifact.path)
    with server.client() as client:
        order = [tensor["name"] for tensor in client.get("/v2/models/apartments").json()["inputs"]]
        record = {**{k: v for k, v in APARTMENT.items() if k != "zip_code"}, example.LOOKUP_VALUE: 11_000.0}
        matrix = [[record[name] for name in order]] * 2
        response = client.post(
            "/v2/models/apartments/infer",
            json={
                "inputs": [{"name": "input-0", "shape": [2, len(order)], "datatype": "FP64", "data": matrix}]
            },
        )
        by_column = client.post("/v1/models/apartments/predict", json={"records": [record]})
    assert response.status_code == 200, response.text
    predictions = response.json()["outputs"][0]["data"]
    assert predictions[0] == predictions[1] == by_column.json()["predictions"][0]["prediction"]


def test_openapi_document_lists_every_protocol(apartments_server):
    with apartments_server.client() as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert document["openapi"].startswith("3.")
    for path in ("/v1/models/{name}/predict", "/v2/models/{name}/infer", "/invocations", "/v2/health/ready"):
        assert path in document["paths"]
    record = document["paths"]["/invocations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "zip_code" in json.dumps(record) and "surface" in json.dumps(record)
    assert docs.status_code == 200 and "/openapi.json" in docs.text
