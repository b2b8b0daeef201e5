"""Overload (bounded queue: 503 + Retry-After at once, then recovery) and graceful shutdown."""

from __future__ import annotations

import concurrent.futures
import signal
import threading
import time

import httpx
import pytest

from slipway.serving.config import ServeConfig
from support.slow_stages import GateStage, SlowStage

V1 = "/v1/models/credit/predict"


def post(url: str, body: dict) -> httpx.Response:
    return httpx.post(url + V1, json=body, timeout=60)


def test_overload_answers_503_with_retry_after_and_recovers(serve_app, credit_served, credit_record):
    slow = SlowStage(0.2)
    server = serve_app(
        credit_served.path,
        stages=[slow],
        config=ServeConfig(queue_size=2, max_batch_size=1, retry_after_s=3, probe_interval_s=0),
    )
    slow.armed = True
    body = {"records": [credit_record]}
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda _: post(server.url, body), range(16)))
    refused = [r for r in responses if r.status_code == 503]
    answered = [r for r in responses if r.status_code == 200]
    assert len(refused) + len(answered) == 16, [r.status_code for r in responses]
    assert refused and answered
    assert all(r.headers["retry-after"] == "3" for r in refused)
    assert all(
        r.json()["error"]["kind"] == "unavailable" and "overloaded" in r.json()["error"]["message"]
        for r in refused
    )
    slow.armed = False
    after = post(server.url, body)
    assert after.status_code == 200, "the server recovers once the burst is over"
    metrics = httpx.get(server.url + "/metrics").text
    assert 'kind="unavailable"' in metrics and 'code="503"' in metrics


def test_graceful_shutdown_finishes_requests_in_flight(serve_app, credit_served, credit_record):
    gate = GateStage()
    server = serve_app(credit_served.path, stages=[gate], config=ServeConfig(probe_interval_s=0))
    gate.armed = True
    results: list[httpx.Response] = []
    flight = threading.Thread(target=lambda: results.append(post(server.url, {"records": [credit_record]})))
    flight.start()
    assert gate.entered.wait(timeout=30), "the request reached the model"
    server.server.should_exit = True  # what uvicorn's SIGTERM handler does
    deadline = time.monotonic() + 30
    refused = False
    while time.monotonic() < deadline and not refused:
        try:
            httpx.get(server.url + "/healthz", timeout=1)
        except httpx.TransportError:
            refused = True  # no new connections once shutdown started
        time.sleep(0.05)
    gate.release.set()
    flight.join(timeout=30)
    server.thread.join(timeout=30)
    assert refused
    assert results and results[0].status_code == 200, results
    assert results[0].json()["predictions"][0]["prediction"] is not None
    assert not server.thread.is_alive()


def test_serve_command_stops_cleanly_on_sigterm(serve_process, credit_served, credit_record):
    process = serve_process(str(credit_served.path))
    assert post(process.url, {"records": [credit_record] * 50}).status_code == 200
    process.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal so a supervisor sees why it ended.
    assert process.process.wait(timeout=60) in (0, -signal.SIGTERM)
    log = process.log.read_text()
    assert "Waiting for application shutdown" in log and "Finished server process" in log, log


@pytest.mark.parametrize("in_thread", ["thread", "loop"])
def test_concurrent_requests_are_scored_together(serve_app, credit_served, credit_record, in_thread):
    slow = SlowStage(0.05)
    server = serve_app(
        credit_served.path,
        stages=[slow],
        config=ServeConfig(max_batch_size=64, score_in=in_thread, probe_interval_s=0),
    )
    slow.armed = True
    body = {"records": [credit_record]}

    def client(_: int) -> list[httpx.Response]:  # a keep-alive connection, as pooled clients use
        with httpx.Client(base_url=server.url, timeout=60) as session:
            return [session.post(V1, json=body) for _ in range(4)]

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        responses = [response for sent in pool.map(client, range(12)) for response in sent]
    assert {r.status_code for r in responses} == {200}
    batch_rows = [r.json()["timing"]["batch_rows"] for r in responses]
    assert max(batch_rows) > 1, "requests that waited while a batch scored were scored together"
    assert len({r.json()["predictions"][0]["prediction"] for r in responses}) == 1
