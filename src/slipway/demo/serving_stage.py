"""Demo: the apartments model served over HTTP with its zip-code lookup in SQLite; good and bad
requests on each protocol, the answers, health and metrics; then a graceful stop."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from slipway.demo.context import DemoContext
from slipway.examples import apartments

_GOOD: dict[str, Any] = {
    "surface": 64.0,
    "rooms": 3,
    "floor": 4,
    "construction_year": 1998,
    "zip_code": "75004",
}
_STARTUP_S = 60.0


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback demo server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback demo server
        text: str = response.read().decode()
        return text


def _answer(status: int, body: dict[str, Any]) -> str:
    if status != 200:
        error = body["error"]
        return f"{error['kind']}: {error['message']}"
    if "predictions" in body and isinstance(body["predictions"][0], dict):
        parts = []
        for row in body["predictions"]:
            flags = ", ".join(flag["code"] for flag in row["flags"])
            value = "rejected" if row["rejected"] else f"{row['prediction']:,.0f}"
            parts.append(value + (f" [{flags}]" if flags else ""))
        return "; ".join(parts)
    if "outputs" in body:
        return "predict = " + ", ".join(f"{v:,.0f}" for v in body["outputs"][0]["data"])
    return json.dumps(body)


def serve_over_http(ctx: DemoContext) -> None:
    import uvicorn

    ctx.heading("8. Serving: slipway serve apartments@champion, lookups from SQLite")
    environ = {apartments.ZIP_DB_URL_ENV: ctx.state["zip_db_url"]}
    app = ctx.slipway.app("apartments@champion", environ=environ, probe_record={**_GOOD, "zip_code": "75001"})
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    ctx.console.print(f"listening on {base} (loopback only); ready: {_get(base + '/readyz')}")
    v1 = f"{base}/v1/models/apartments/predict"
    requests: list[tuple[str, str, Any]] = [
        ("v1 records", v1, {"records": [_GOOD, {**_GOOD, "zip_code": "75016", "surface": 30.0}]}),
        ("v1 unknown zip", v1, {"records": [{**_GOOD, "zip_code": "99999"}]}),
        (
            "MLflow dataframe_split",
            f"{base}/invocations",
            {"dataframe_split": {"columns": list(_GOOD), "data": [list(_GOOD.values())]}},
        ),
        (
            "Open Inference v2",
            f"{base}/v2/models/apartments/infer",
            {
                "inputs": [
                    {
                        "name": k,
                        "shape": [1],
                        "datatype": "BYTES" if isinstance(v, str) else "FP64",
                        "data": [v],
                    }
                    for k, v in _GOOD.items()
                ]
            },
        ),
        ("bad: wrong type", v1, {"records": [{**_GOOD, "surface": "large"}]}),
        ("bad: missing column", v1, {"records": [{k: v for k, v in _GOOD.items() if k != "rooms"}]}),
        ("bad: extra column", v1, {"records": [{**_GOOD, "balcony": True}]}),
        ("bad: null surface", v1, {"records": [{**_GOOD, "surface": None}]}),
        ("bad: malformed JSON", v1, b'{"records": ['),
    ]
    rows = []
    for label, url, body in requests:
        status, answer = _post(url, body)
        rows.append((label, status, _answer(status, answer)))
    ctx.table(["request", "status", "answer"], rows)
    status, sample = _post(v1, {"records": [_GOOD]})
    ctx.console.print(f"one answer in full: {json.dumps(sample)}")
    metrics = [
        line for line in _get(base + "/metrics").splitlines() if line.startswith("slipway_requests_total")
    ]
    ctx.console.print("metrics: " + "; ".join(metrics[:4]))
    server.should_exit = True
    thread.join(timeout=60)
    ctx.console.print("server stopped gracefully (requests in flight finished, lookups closed)")
