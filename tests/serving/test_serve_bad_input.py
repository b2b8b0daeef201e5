"""Every kind of bad input is a 4xx JSON error naming the field and the problem, on every protocol."""

from __future__ import annotations

import math

import pytest

from slipway.examples import apartments
from slipway.serving.config import ServeConfig
from support.live_server import APARTMENT

MAX_BODY = 4_096
MAX_ROWS = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory, apartments_served):
    from slipway.api import Slipway
    from slipway.core.settings import Settings
    from support.live_server import LiveServer

    home = tmp_path_factory.mktemp("bad-input")
    url = apartments.write_zip_table(home / "zip.db")
    sw = Slipway(Settings.from_env({}, home=home / "home"))
    live = LiveServer(
        sw.app(
            apartments_served.path,
            environ={apartments.ZIP_DB_URL_ENV: url},
            config=ServeConfig(max_body_bytes=MAX_BODY, max_rows=MAX_ROWS),
        )
    ).start()
    yield live
    live.stop()
    sw.close()


def without(record, key):
    return {k: v for k, v in record.items() if k != key}


V1 = "/v1/models/apartments/predict"
CASES = [
    # (id, path, body (json) or raw bytes, status, kind, field, words in the message)
    (
        "missing-column",
        V1,
        {"records": [without(APARTMENT, "rooms")]},
        422,
        "invalid_input",
        "rooms",
        "missing",
    ),
    (
        "wrong-type",
        V1,
        {"records": [{**APARTMENT, "surface": "big"}]},
        422,
        "invalid_input",
        "surface",
        "expected a number",
    ),
    (
        "integer-out-of-range",
        V1,
        {"records": [{**APARTMENT, "construction_year": 9223372036854775809}]},
        422,
        "invalid_input",
        "construction_year",
        "out of range",
    ),
    (
        "bool-for-number",
        V1,
        {"records": [{**APARTMENT, "floor": True}]},
        422,
        "invalid_input",
        "floor",
        "expected",
    ),
    (
        "extra-column",
        V1,
        {"records": [{**APARTMENT, "balcony": 1}]},
        422,
        "invalid_input",
        "balcony",
        "unexpected",
    ),
    (
        "null-not-allowed",
        V1,
        {"records": [{**APARTMENT, "surface": None}]},
        422,
        "invalid_input",
        "surface",
        "null",
    ),
    (
        "wrong-key-type",
        V1,
        {"records": [{**APARTMENT, "zip_code": 75004}]},
        422,
        "invalid_input",
        "zip_code",
        "expected",
    ),
    (
        "rows-differ",
        V1,
        {"records": [APARTMENT, without(APARTMENT, "floor")]},
        422,
        "invalid_input",
        "floor",
        "differ",
    ),
    (
        "columns-lengths",
        V1,
        {"columns": {"surface": [1.0, 2.0], "rooms": [1]}},
        422,
        "invalid_input",
        "columns",
        "lengths",
    ),
    ("column-not-list", V1, {"columns": {"surface": 1.0}}, 422, "invalid_input", "surface", "list"),
    ("no-rows", V1, {"records": []}, 422, "invalid_input", "records", "at least one"),
    ("unknown-field", V1, {"rows": [APARTMENT]}, 422, "invalid_input", "rows", "unknown field"),
    ("not-an-object", V1, [APARTMENT], 400, "malformed_request", None, "JSON object"),
    ("malformed-json", V1, b'{"records": [', 400, "malformed_request", None, "malformed JSON"),
    ("nan-literal", V1, b'{"records": [{"surface": NaN}]}', 400, "malformed_request", None, "malformed JSON"),
    ("empty-body", V1, b"", 400, "malformed_request", None, "empty"),
    (
        "too-many-rows",
        V1,
        {"records": [APARTMENT] * (MAX_ROWS + 1)},
        413,
        "payload_too_large",
        None,
        "at most",
    ),
    (
        "body-too-large",
        V1,
        {"records": [{**APARTMENT, "zip_code": "7" * MAX_BODY}]},
        413,
        "payload_too_large",
        None,
        "limit",
    ),
    (
        "unknown-model",
        "/v1/models/houses/predict",
        {"records": [APARTMENT]},
        404,
        "not_found",
        None,
        "houses",
    ),
    (
        "mlflow-two-formats",
        "/invocations",
        {"instances": [APARTMENT], "inputs": [APARTMENT]},
        422,
        "invalid_input",
        None,
        "exactly one",
    ),
    (
        "mlflow-params",
        "/invocations",
        {"instances": [APARTMENT], "params": {"x": 1}},
        422,
        "invalid_input",
        "params",
        "params",
    ),
    (
        "mlflow-split-ragged",
        "/invocations",
        {"dataframe_split": {"columns": ["surface"], "data": [[1.0, 2.0]]}},
        422,
        "invalid_input",
        "dataframe_split.data",
        "1 values",
    ),
    (
        "mlflow-missing",
        "/invocations",
        {"dataframe_records": [without(APARTMENT, "surface")]},
        422,
        "invalid_input",
        "surface",
        "missing",
    ),
    (
        "v2-no-inputs",
        "/v2/models/apartments/infer",
        {"inputs": []},
        422,
        "invalid_input",
        "inputs",
        "non-empty",
    ),
    (
        "v2-bad-datatype",
        "/v2/models/apartments/infer",
        {"inputs": [{"name": "surface", "shape": [1], "datatype": "FP99", "data": [1.0]}]},
        422,
        "invalid_input",
        "surface",
        "datatype",
    ),
    (
        "v2-shape-mismatch",
        "/v2/models/apartments/infer",
        {"inputs": [{"name": "surface", "shape": [2], "datatype": "FP64", "data": [1.0]}]},
        422,
        "invalid_input",
        "surface",
        "needs 2 values",
    ),
    (
        "v2-missing-column",
        "/v2/models/apartments/infer",
        {"inputs": [{"name": "surface", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
        422,
        "invalid_input",
        "rooms",
        "missing",
    ),
    (
        "v2-wrong-type",
        "/v2/models/apartments/infer",
        {
            "inputs": [
                {"name": k, "shape": [1], "datatype": "BYTES", "data": [str(v)]} for k, v in APARTMENT.items()
            ]
        },
        422,
        "invalid_input",
        "surface",
        "expected a number",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "kind", "field", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_4xx_naming_the_field(server, path, body, status, kind, field, words):
    with server.client() as client:
        if isinstance(body, bytes):
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        else:
            response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["kind"] == kind
    assert error["field"] == field
    assert words in error["message"]
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_wrong_content_type_is_415(server):
    with server.client() as client:
        response = client.post(V1, content=b"surface,rooms\n1,2\n", headers={"Content-Type": "text/csv"})
    assert response.status_code == 415 and response.json()["error"]["field"] == "Content-Type"


def test_a_body_declared_too_large_is_refused_before_it_is_read(server):
    with server.client() as client:
        response = client.post(V1, content=b"{" + b" " * (MAX_BODY * 4) + b"}")
    assert response.status_code == 413 and str(MAX_BODY) in response.json()["error"]["message"]


def test_unknown_paths_and_methods_are_json_4xx(server):
    with server.client() as client:
        missing = client.get("/v3/anything")
        method = client.get(V1)
    assert missing.status_code == 404 and missing.json()["error"]["kind"] == "not_found"
    assert method.status_code == 405 and method.json()["error"]["kind"] == "method_not_allowed"


def test_a_bad_request_in_a_batch_does_not_fail_its_neighbours(server):
    """Requests scored in one micro-batch: the bad one gets its own 422, the others their answers."""
    import concurrent.futures

    good = {"records": [APARTMENT]}
    bad = {"records": [{**APARTMENT, "surface": "big"}]}
    with server.client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda body: client.post(V1, json=body), [good, bad] * 12))
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 422] * 12
    predictions = {response.json()["predictions"][0]["prediction"] for response in responses[::2]}
    assert len(predictions) == 1 and not math.isnan(predictions.pop())
