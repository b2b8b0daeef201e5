"""Schemathesis fuzzes the server from its own OpenAPI document: no 5xx in >= 1,000 requests.

Valid and invalid bodies (``--mode all``) for every operation, against ``slipway serve`` in a
subprocess with its SQLite lookup; every request and answer is read back from the HAR report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slipway.examples import apartments

MIN_REQUESTS = 1_000
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(serve_process, apartments_served, zip_db, tmp_path):
    process = serve_process(str(apartments_served.path), env={apartments.ZIP_DB_URL_ENV: zip_db})
    har = tmp_path / "fuzz.har"
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{process.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--mode",
            "all",
            "--max-examples",
            "100",
            "--seed",
            "20261127",
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--report",
            "har",
            "--report-har-path",
            str(har),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = [entry["response"]["status"] for entry in entries]
    server_errors = [entry for entry in entries if entry["response"]["status"] >= 500]
    assert not server_errors, json.dumps(server_errors[:3], indent=1)[:4000]
    assert run.returncode == 0, run.stdout[-4000:]
    assert len(entries) >= MIN_REQUESTS, f"only {len(entries)} requests"
    posted = [entry for entry in entries if entry["request"]["method"] == "POST"]
    assert {400, 422}.issubset(statuses), "invalid bodies were generated and refused"
    assert any(entry["response"]["status"] == 200 for entry in posted), "valid bodies were scored"
