"""Degraded mode over HTTP: ``slipway degrade MODEL`` reaches a running server's rows and every
response says ``degraded: true`` with the reason; ``restore`` ends it."""

from __future__ import annotations

import time
from pathlib import Path

from slipway.api import Slipway
from slipway.core.settings import Settings
from support.guarded import guarded_credit

__all__ = ["guarded_credit"]


def test_a_degraded_deployment_refuses_rows_and_says_so(
    serve_app, guarded_credit, credit_data, tmp_path: Path
):
    record = credit_data.holdout.drop(columns=["default", "gender"]).head(2).to_dict("records")
    with Slipway(Settings.from_env({}, home=tmp_path / "home", actor="ops@test")) as ops:
        ops.degrade("credit", "refuse", reason="fraud wave under investigation")
        server = serve_app(guarded_credit.path)
        with server.client() as client:
            refused = client.post("/v1/models/credit/predict", json={"records": record})
        ops.restore("credit", reason="over")
        time.sleep(1.1)  # the server re-reads the registry at most once a second
        with server.client() as client:
            normal = client.post("/v1/models/credit/predict", json={"records": record})

    body = refused.json()
    assert refused.status_code == 200, refused.text
    assert body["degraded"] is True
    assert body["degraded_reason"] == "refuse: fraud wave under investigation"
    assert refused.headers["x-slipway-degraded"] == "true"
    assert all(row["rejected"] and row["prediction"] is None for row in body["predictions"])
    assert body["predictions"][0]["flags"][0]["guard"] == "degraded"
    after = normal.json()
    assert after["degraded"] is False and not any(row["rejected"] for row in after["predictions"])
