"""/metrics in Prometheus format: requests, errors by kind, latency, batch sizes, queue depth,
lookup latency and cache hits, probe, process CPU and memory, per model version."""

from __future__ import annotations

import socket
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from slipway.examples import apartments, credit
from slipway.serving.config import ServeConfig
from support.live_server import APARTMENT

V1 = "/v1/models/apartments/predict"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found, name, **labels):
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def test_metrics_count_what_happened(serve_app, apartments_served, zip_db):
    server = serve_app(
        apartments_served.path,
        environ={apartments.ZIP_DB_URL_ENV: zip_db},
        config=ServeConfig(probe_interval_s=0),
        probe_record={**APARTMENT, "zip_code": "75001"},
    )
    with server.client() as client:
        for _ in range(3):
            assert (
                client.post(V1, json={"records": [APARTMENT, {**APARTMENT, "zip_code": "75010"}]}).status_code
                == 200
            )
        assert client.post(V1, json={"records": [{**APARTMENT, "zip_code": "99999"}]}).status_code == 200
        assert client.post(V1, json={"records": [{**APARTMENT, "rooms": "three"}]}).status_code == 422
        assert client.post(V1, content=b"{").status_code == 400
        assert client.post("/invocations", json={"dataframe_records": [APARTMENT]}).status_code == 200
        text = client.get("/metrics").text
    found = samples(text)
    model = {"model": "apartments", "version": apartments_served.manifest.digest[:12]}
    assert value(found, "slipway_requests_total", **model, protocol="v1", code="200") == 4
    assert value(found, "slipway_requests_total", **model, protocol="v1", code="422") == 1
    assert value(found, "slipway_requests_total", **model, protocol="mlflow", code="200") == 1
    assert value(found, "slipway_errors_total", **model, kind="invalid_input") == 1
    assert value(found, "slipway_errors_total", **model, kind="malformed_request") == 1
    assert value(found, "slipway_request_duration_seconds_count", **model, protocol="v1") == 6
    assert value(found, "slipway_request_duration_seconds_bucket", **model, protocol="v1", le="+Inf") == 6
    # 4 scored requests + the warm-up probe; the bad-typed one fails before it is a batch of its own
    assert value(found, "slipway_batch_rows_count", **model) >= 6
    assert value(found, "slipway_rows_total", **model, outcome="rejected") == 1
    assert value(found, "slipway_queue_depth", **model) == 0
    keys_cached = value(found, "slipway_lookup_keys_total", **model, lookup="zip_prices", source="cache")
    keys_queried = value(found, "slipway_lookup_keys_total", **model, lookup="zip_prices", source="query")
    assert keys_queried >= 3 and keys_cached >= 4, (keys_queried, keys_cached)
    assert value(found, "slipway_lookup_duration_seconds_count", **model, lookup="zip_prices") >= 5
    assert value(found, "slipway_probe_success", **model) == 1
    assert value(found, "slipway_model_info", **model, runtime="onnx") == 1
    assert value(found, "process_cpu_seconds_total") > 0
    assert value(found, "process_resident_memory_bytes") > 0


def test_health_endpoints_show_the_self_probe(serve_app, apartments_served, zip_db):
    probe = {**APARTMENT, "zip_code": "75001"}
    server = serve_app(
        apartments_served.path,
        environ={apartments.ZIP_DB_URL_ENV: zip_db},
        probe_record=probe,
        config=ServeConfig(probe_interval_s=0.2),
    )
    with server.client() as client:
        for path in ("/v2/health/live", "/v2/health/ready", "/readyz", "/v2/models/apartments/ready"):
            assert client.get(path).status_code == 200, path
        assert client.get("/v2/models/houses/ready").status_code == 404
        health = client.get("/healthz").json()
        while health["probe"]["runs"] < 3:
            health = client.get("/healthz").json()
    assert health["probe"]["record"] == probe
    last = health["probe"]["last"]
    assert last["ok"] is True and last["flags"] == [] and last["prediction"] > 0 and last["latency_ms"] > 0
    assert health["probe"]["failures"] == 0


def test_default_probe_record_comes_from_the_profile(serve_app, credit_served):
    server = serve_app(credit_served.path)
    health = httpx.get(server.url + "/healthz").json()
    record = health["probe"]["record"]
    assert set(record) == set(credit.FEATURES)
    assert all(value is not None for value in record.values())
    assert health["probe"]["last"]["ok"] is True and health["probe"]["last"]["prediction"] is not None


def test_a_client_that_leaves_mid_body_is_counted_apart_not_as_a_server_error(serve_app, credit_served):
    server = serve_app(credit_served.path, config=ServeConfig(probe_interval_s=0))
    path = "/v1/models/credit/predict"
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        conn.sendall(head.encode() + b'Content-Length: 500\r\n\r\n{"records": [{"age": 4')
        time.sleep(0.2)  # the server is waiting for the rest of the body
    model = {"model": "credit", "version": credit_served.manifest.digest[:12]}
    deadline = time.monotonic() + 10
    while True:
        found = samples(httpx.get(server.url + "/metrics").text)
        closed = value(found, "slipway_errors_total", **model, kind="client_closed")
        if closed or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert closed == 1
    assert value(found, "slipway_requests_total", **model, code="499") == 1
    assert value(found, "slipway_errors_total", **model, kind="internal") == 0
