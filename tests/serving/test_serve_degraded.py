"""Guards and degraded mode through the server: guard flags in responses, and the deployment's
degraded state (entered with ``Slipway.degrade``, stored in the registry) on every answer."""

from __future__ import annotations

import time

import httpx
import pytest
from threadpoolctl import threadpool_limits

from slipway.api import Slipway
from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.core.settings import Settings
from slipway.examples import credit
from slipway.guards.step import GuardsStep
from slipway.serving.app import create_app
from slipway.serving.degraded import StaticDegradedProvider
from support.live_server import LiveServer

V1 = "/v1/models/credit/predict"
WAIT_S = 30.0


@pytest.fixture(scope="module")
def guarded_credit(tmp_path_factory, credit_model, credit_data):
    spec = BuildSpec(
        name=credit.NAME,
        train=credit_data.train,
        validation=credit_data.validation,
        target=credit.TARGET,
        exclude=[credit.SENSITIVE],
    )
    with threadpool_limits(limits=1):
        return build_artifact(
            credit_model, spec, output=tmp_path_factory.mktemp("guarded") / "credit", steps=[GuardsStep(None)]
        )


def score(server, record):
    response = httpx.post(server.url + V1, json={"records": [record]}, timeout=30)
    assert response.status_code == 200, response.text
    return response


def wait_for(server, record, degraded: bool):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        response = score(server, record)
        if response.json()["degraded"] is degraded:
            return response
        time.sleep(0.1)
    raise AssertionError(f"the server did not report degraded={degraded} within {WAIT_S} s")


def test_guard_flags_are_in_responses_and_can_be_left_out(serve_app, guarded_credit, credit_record):
    odd = {**credit_record, "income": 1e9}
    guarded = serve_app(guarded_credit.path)
    unguarded = serve_app(guarded_credit.path, guards=False)
    flags = score(guarded, odd).json()["predictions"][0]["flags"]
    assert "domain" in {flag["guard"] for flag in flags}, flags
    assert score(unguarded, odd).json()["predictions"][0]["flags"] == []


def test_degraded_mode_of_the_deployment_is_on_every_answer(
    serve_app, credit_served, credit_record, tmp_path
):
    server = serve_app(credit_served.path)
    admin = Slipway(Settings.from_env({}, home=tmp_path / "home"))  # the server's registry
    try:
        assert score(server, credit_record).json()["degraded"] is False
        admin.degrade("credit", "warn", reason="input drift on income")
        warned = wait_for(server, credit_record, degraded=True).json()
        assert warned["degraded_reason"] == "input drift on income" and warned["degraded_mode"] == "warn"
        assert warned["predictions"][0]["prediction"] is not None
        infer = httpx.post(
            server.url + "/v2/models/credit/infer",
            json={
                "inputs": [
                    {
                        "name": k,
                        "shape": [1],
                        "datatype": "BYTES" if isinstance(v, str) else "FP64",
                        "data": [v],
                    }
                    for k, v in credit_record.items()
                ]
            },
        ).json()
        assert infer["parameters"]["degraded"] is True and infer["parameters"]["degraded_mode"] == "warn"
        assert httpx.get(server.url + "/healthz").json()["degraded"] is True
        admin.restore("credit", reason="fixed")
        restored = wait_for(server, credit_record, degraded=False)
        assert restored.headers["x-slipway-degraded"] == "false"
        admin.degrade("credit", "refuse", reason="maintenance")
        refused = wait_for(server, credit_record, degraded=True).json()["predictions"][0]
        assert refused["rejected"] is True and refused["flags"][0]["guard"] == "degraded"
    finally:
        admin.close()


def test_a_provider_of_our_own_sets_the_degraded_state(credit_served, credit_record, tmp_path):
    provider = StaticDegradedProvider()
    with Slipway(Settings.from_env({}, home=tmp_path / "home")) as sw:
        server = LiveServer(create_app(sw.scorer(credit_served.path), degraded=provider)).start()
        try:
            assert score(server, credit_record).json()["degraded"] is False
            provider.set(degraded=True, reason="manual check", mode="warn")
            body = score(server, credit_record).json()
            assert (body["degraded"], body["degraded_reason"]) == (True, "manual check")
        finally:
            server.stop()
