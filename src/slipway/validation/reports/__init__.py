"""The gate's reports: JSON (the source of truth), JUnit XML for CI, self-contained HTML for people.

paths = write_reports(report, Path("reports/credit-3"))
paths["html"]  # report.html: plots embedded as SVG data, no external URL
"""

from __future__ import annotations

import json
from pathlib import Path

from slipway.core.errors import StoreError
from slipway.validation.results import GateReport

JSON_NAME, JUNIT_NAME, HTML_NAME = "report.json", "junit.xml", "report.html"


def write_reports(report: GateReport, folder: Path) -> dict[str, Path]:
    """Write the three reports into ``folder``; each file appears whole or not at all."""
    from slipway.validation.reports.html import render_html
    from slipway.validation.reports.junit import render_junit

    data = report.to_dict()
    contents = {
        "json": (JSON_NAME, json.dumps(data, indent=2, allow_nan=False, default=str) + "\n"),
        "junit": (JUNIT_NAME, render_junit(report)),
        "html": (HTML_NAME, render_html(data)),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for kind, (name, text) in contents.items():
            target = folder / name
            partial = folder / f".{name}.partial"
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)
            paths[kind] = target
    except OSError as exc:
        raise StoreError(f"cannot write the gate's reports into {folder}: {exc.strerror or exc}") from exc
    return paths
