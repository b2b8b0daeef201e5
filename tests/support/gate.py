"""Helpers shared by the gate's tests (the fixtures are in tests/validation/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from slipway.validation.results import GateReport

#: Defect models bundled into artifacts as python-flavor code, module name ``zoo_models``.
ZOO = Path(__file__).parents[1] / "validation" / "zoo_models.py"


def failed_ids(report: GateReport) -> set[str]:
    return {failure.id for failure in report.failures}
