"""`slipway serve --workers 2`: two processes, both answer, each with its share of the cores for
model threads, and /metrics adds up the workers' counters (prometheus multiprocess mode)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from slipway.examples import apartments
from slipway.runtimes.threads import available_cores
from support.live_server import APARTMENT

ATTEMPTS = 400


def test_two_workers_start_and_both_answer(serve_process, apartments_served, zip_db):
    process = serve_process(
        str(apartments_served.path), "--workers", "2", env={apartments.ZIP_DB_URL_ENV: zip_db}
    )
    pids: set[int] = set()
    threads: set[str] = set()
    answered = 0
    for _ in range(ATTEMPTS):
        with httpx.Client(base_url=process.url, timeout=30) as client:  # a new connection each time
            health = client.get("/healthz").json()
            response = client.post("/v1/models/apartments/predict", json={"records": [APARTMENT]})
        assert response.status_code == 200, response.text
        answered += 1
        pids.add(health["pid"])
        threads.add(health["model_threads"])
        if len(pids) == 2 and answered >= 20:
            break
    assert len(pids) == 2, "both workers answered"
    assert threads == {str(max(1, available_cores() // 2))}
    text = httpx.get(f"{process.url}/metrics", timeout=30).text
    total = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "slipway_requests_total" and sample.labels.get("code") == "200"
    )
    assert total == answered, "any worker's /metrics counts every worker's requests"
