"""The reports: JSON is the source of truth, JUnit is read back by a real JUnit parser, and the
HTML report renders its plots in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from slipway.validation.reports import write_reports
from slipway.validation.results import GateReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Added to a copy of the report only: after load, write each image's natural size into the page.
PROBE = (
    "<script>window.addEventListener('load', () => { const p = document.createElement('pre');"
    " p.id = 'probe'; p.textContent = JSON.stringify(Array.from(document.images).map("
    "i => [i.alt, i.naturalWidth, i.naturalHeight])); document.body.appendChild(p); });</script>"
)


@pytest.fixture(scope="module")
def written(credit_report: GateReport, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(credit_report, tmp_path_factory.mktemp("reports"))


def test_json_report_is_the_full_record(written: dict[str, Path], credit_report: GateReport) -> None:
    data = json.loads(written["json"].read_text())
    assert data["format"] == "slipway.validation/1"
    assert data["verdict"] == "pass"
    assert data["model"]["digest"] == credit_report.model["digest"]
    assert len(data["plan"]["digest"]) == 64
    assert data["environment"]["packages"]["scikit-learn"]
    assert data["scenarios"][0]["name"] == "base_case"
    base = data["scenarios"][0]
    assert base["metrics"]["roc_auc"] > 0.6
    assert base["intervals"]["roc_auc"][0] < base["metrics"]["roc_auc"] < base["intervals"]["roc_auc"][1]
    assert set(base["details"]["slices"]) == {"gender", "employment"}
    assert data["explanations"]["permutation_importance"][0]["feature"] in {"debt_ratio", "income"}
    assert not list(written["json"].parent.glob(".*.partial"))


def test_junit_has_one_case_per_scenario_and_expectation(
    written: dict[str, Path], credit_report: GateReport
) -> None:
    xml = JUnitXml.fromfile(str(written["junit"]))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {scenario.name for scenario in credit_report.scenarios}
    names = {case.name for suite in xml for case in suite}
    assert "base_case::accuracy >= 0.72" in names
    assert "missing_values[income]::error_rate == 0" in names
    assert "stability::changed_share <= 0.05" in names
    assert len(names) == len(credit_report.expectations)
    skipped = [case for case in suites["base_case"] if any(isinstance(r, Skipped) for r in case.result)]
    assert {case.name for case in skipped} == {
        "base_case::delta(accuracy) >= -0.02",
        "base_case::p_worse(accuracy) >= 0.05",
    }
    assert "no champion to compare with" in skipped[0].result[0].message
    assert xml.failures == 0


def test_junit_names_the_failed_expectation(credit_report: GateReport, tmp_path: Path) -> None:
    failing = GateReport(**{**credit_report.__dict__, "scenarios": list(credit_report.scenarios)})
    expectation = failing.scenarios[0].expectations[3]
    original = (expectation.status, expectation.value)
    expectation.status, expectation.value = "failed", 0.1
    try:
        paths = write_reports(failing, tmp_path)
    finally:
        expectation.status, expectation.value = original
    xml = JUnitXml.fromfile(str(paths["junit"]))
    failed = [case for suite in xml for case in suite if any(isinstance(r, Failure) for r in case.result)]
    assert [case.name for case in failed] == [expectation.id]
    assert (
        failed[0].result[0].message
        == f"{expectation.metric} = 0.1, expected {expectation.op} {expectation.threshold:g}"
    )
    assert json.loads(paths["json"].read_text())["verdict"] == "fail"


def test_html_report_is_self_contained(written: dict[str, Path]) -> None:
    html = written["html"].read_text()
    assert "PASS" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("data:image/svg+xml;base64,") >= 5


def test_html_report_renders_its_plots_in_chromium(written: dict[str, Path], tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    probe = tmp_path / "probe.html"
    probe.write_text(written["html"].read_text().replace("</body>", PROBE + "</body>"))
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-500:]
    images = json.loads(found.group(1).replace("&quot;", '"'))
    captions = {alt for alt, _, _ in images}
    assert {
        "metrics by gender, with bootstrap intervals",
        "calibration",
        "single-row latency",
        "stability ranking",
        "permutation importance",
    } <= captions
    assert all(width > 100 and height > 100 for _, width, height in images), images
