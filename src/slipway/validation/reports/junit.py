"""JUnit XML: one test suite per scenario, one test case per expectation, ``scenario::expectation``.

CI servers (Jenkins, GitLab, GitHub test reporters) then show which data breaks the model.
Failed expectations, insufficient data and values that could not be computed are failures;
comparisons without a champion and scenarios that do not apply are skipped; warnings pass with
the warning in ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from slipway.validation.results import ExpectationResult, GateReport

_FAILED = ("failed", "insufficient_data", "not_computable")


def render_junit(report: GateReport) -> str:
    model = report.model.get("ref") or report.model["name"]
    root = ET.Element("testsuites", name=f"slipway gate: {model}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for scenario in report.scenarios:
        suite = ET.SubElement(root, "testsuite", name=scenario.name)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for expectation in scenario.expectations:
            _case(suite, model, expectation, counts)
        _stamp(suite, counts)
        for key in totals:
            totals[key] += counts[key]
    if report.plan_failures:
        suite = ET.SubElement(root, "testsuite", name="plan")
        for message in report.plan_failures:
            case = ET.SubElement(
                suite, "testcase", classname=f"slipway.gate.{model}.plan", name="plan::expectations"
            )
            ET.SubElement(case, "failure", message=message, type="plan")
        _stamp(
            suite, {"tests": len(report.plan_failures), "failures": len(report.plan_failures), "skipped": 0}
        )
        totals["tests"] += len(report.plan_failures)
        totals["failures"] += len(report.plan_failures)
    _stamp(root, totals)
    root.set("time", f"{report.duration_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, model: str, expectation: ExpectationResult, counts: dict[str, int]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"slipway.gate.{model}.{expectation.scenario}",
        name=expectation.id,
        time="0",
    )
    counts["tests"] += 1
    shown = "n/a" if expectation.value is None else f"{expectation.value:.6g}"
    summary = f"{expectation.metric} = {shown}, expected {expectation.op} {expectation.threshold:g}"
    detail = f"{summary}. {expectation.message}".strip()
    if expectation.status in _FAILED and expectation.blocking:
        ET.SubElement(case, "failure", message=summary, type=expectation.status).text = detail
        counts["failures"] += 1
    elif expectation.status in ("skipped", "not_applicable"):
        ET.SubElement(case, "skipped", message=expectation.message or expectation.status)
        counts["skipped"] += 1
    elif expectation.status != "passed":
        ET.SubElement(case, "system-out").text = f"WARNING ({expectation.status}): {detail}"


def _stamp(element: ET.Element, counts: dict[str, int]) -> None:
    element.set("tests", str(counts["tests"]))
    element.set("failures", str(counts["failures"]))
    element.set("errors", "0")
    element.set("skipped", str(counts["skipped"]))
