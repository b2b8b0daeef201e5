"""Degraded mode entered by a rule on the rows a server scores (``--degrade-when``): once,
audited, and every later response says so. (By hand: tests/serving/test_serve_degraded.py.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from slipway.api import Slipway
from slipway.artifacts.loader import LoadedArtifact
from slipway.core.settings import Settings
from slipway.examples import apartments
from support.examples import ExampleData
from support.guarded import guarded_apartments
from support.live_server import LiveServer, serve_app

__all__ = ["guarded_apartments", "serve_app"]

PREDICT = "/v1/models/apartments/predict"


@pytest.fixture
def registry_view(tmp_path: Path) -> Slipway:
    """A second client of the registry the ``serve_app`` server uses (same home)."""
    sw = Slipway(Settings.from_env({}, home=tmp_path / "home", actor="ops@test"))
    yield sw
    sw.close()


def records(data: ExampleData, rows: int, **changes: Any) -> list[dict[str, Any]]:
    frame = data.holdout.head(rows)[list(apartments.FEATURES)]
    return [{**row, **changes} for row in frame.to_dict(orient="records")]


def answer_once(
    client: httpx.Client, body: list[dict[str, Any]], until: Callable[[dict[str, Any]], bool]
) -> Any:
    """Post until ``until(response)`` holds (the server re-reads the registry every second)."""
    deadline = time.monotonic() + 10
    while True:
        response = client.post(PREDICT, json={"records": body})
        assert response.status_code == 200, response.text
        if until(response.json()) or time.monotonic() > deadline:
            return response.json()
        time.sleep(0.2)


def test_a_rule_on_served_rows_enters_degraded_mode_once(
    serve_app: Callable[..., LiveServer],
    registry_view: Slipway,
    guarded_apartments: LoadedArtifact,
    apartments_data: ExampleData,
) -> None:
    server = serve_app(guarded_apartments.path, deployment="apartments-eu", degrade_when="domain:0.2:50:warn")
    with server.client() as client:
        normal = client.post(PREDICT, json={"records": records(apartments_data, 60)}).json()
        assert normal["degraded"] is False
        assert registry_view.degradation("apartments-eu") is None

        odd = client.post(PREDICT, json={"records": records(apartments_data, 30, surface=1e6)})
        assert odd.status_code == 200
        state = registry_view.degradation("apartments-eu")
        assert state is not None and state.mode == "warn" and state.rule is not None
        assert state.rule["guard"] == "domain" and state.rule["observed_share"] > 0.2

        warned = answer_once(client, records(apartments_data, 2), lambda answer: answer["degraded"])
        assert warned["degraded"] is True and "flagged by the domain guard" in warned["degraded_reason"]
        assert all(row["prediction"] is not None for row in warned["predictions"])  # warn still scores
    degraded_events = [e for e in registry_view.audit_log() if e.action == "deployment.degraded"]
    assert len(degraded_events) == 1


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("domain:0.2", "GUARD:SHARE:WINDOW"),
        ("domain:lots:500", "SHARE must be a number"),
        ("domain:1.5:500", "share"),
    ],
)
def test_a_bad_rule_is_refused_before_serving(
    serve_app: Callable[..., LiveServer], guarded_apartments: LoadedArtifact, rule: str, problem: str
) -> None:
    from slipway.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=problem):
        serve_app(guarded_apartments.path, degrade_when=rule)
