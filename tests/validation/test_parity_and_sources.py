"""Runtime parity against a second runtime, and production windows read from SQL tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from slipway.adapters.sql_table_reader import SqlTableReader
from slipway.api import Slipway
from slipway.artifacts.loader import LoadedArtifact
from slipway.core.errors import InvalidInputError
from slipway.examples.plans import production_applications
from slipway.scoring.runtime import NativeRuntime, Prediction
from slipway.scoring.schema import Columns
from slipway.validation.gate import GateOptions, run_gate
from slipway.validation.plan_files import parse_plan

QUICK = {
    "latency": {"warmup": 1, "calls": 5, "max_seconds": 1.0, "batch_size": 100, "batch_repeats": 1},
    "bootstrap": {"resamples": 20},
    "explanations": {"enabled": False},
    "allow_no_expectations": True,
}


class ShiftedRuntime:
    """A 'compiled' runtime that is off by 0.02 in probability for applicants with 3+ late payments."""

    name = "shifted"

    def __init__(self, artifact: LoadedArtifact) -> None:
        self.native = NativeRuntime(artifact.runner)

    def predict(self, columns: Columns, features: tuple[str, ...]) -> Prediction:
        found = self.native.predict(columns, features)
        assert found.probabilities is not None
        shifted = found.probabilities.copy()
        late = np.asarray(columns["late_payments"]) >= 3
        shifted[late, 1] = np.clip(shifted[late, 1] + 0.02, 0, 1)
        shifted[late, 0] = 1 - shifted[late, 1]
        return Prediction(found.values, shifted)


def test_a_runtime_that_differs_fails_runtime_parity_naming_the_rows(
    healthy_credit: LoadedArtifact, credit_data: Any
) -> None:
    holdout = credit_data.holdout
    plan = parse_plan(
        {
            "scenarios": {
                "base_case": {"data": holdout},
                "missing_values": {"rows": 30, "features": ["age"]},
            },
            **QUICK,
        }
    )
    faithful = NativeRuntime(healthy_credit.runner)
    faithful.name = "copy"
    report = run_gate(healthy_credit, plan, GateOptions(runtimes=[ShiftedRuntime(healthy_credit), faithful]))
    failed = {f.id for f in report.failures}
    assert failed == {"base_case::runtime_parity[shifted]"}
    parity = report.scenario("base_case").details["parity"]
    late_rows = np.flatnonzero(holdout["late_payments"].to_numpy() >= 3)
    assert parity["shifted"]["mismatched_rows"] == len(late_rows)
    assert [r["row"] for r in parity["shifted"]["rows"]] == late_rows[:5].tolist()
    assert parity["shifted"]["max_abs_diff"] == pytest.approx(0.02, abs=1e-9)
    assert parity["copy"]["mismatched_rows"] == 0
    message = next(f.message for f in report.failures)
    assert message.startswith(
        f"{len(late_rows)} rows differ between native and shifted (rows {late_rows[0]}, "
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def production_table(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL holding table ``applications`` with three weeks of labelled rows."""
    url = (
        f"sqlite:///{tmp_path / 'production.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        production_applications(300).to_sql("applications", connection, index=False)
    engine.dispose()
    return str(url)


def test_production_windows_from_a_sql_table(
    production_table: str,
    slipway_home: Slipway,
    healthy_credit: LoadedArtifact,
    credit_data: Any,
    tmp_path: Path,
) -> None:
    plan = {
        "scenarios": {
            "base_case": {"data": credit_data.holdout},
            "production": {
                "sql": {"table": "applications", "url": production_table},
                "time_column": "applied_at",
                "every": "7d",
                "expect": ["accuracy >= 0.5"],
            },
        },
        **QUICK,
    }
    run = slipway_home.validate(str(healthy_credit.path), plan=plan, report_dir=tmp_path)
    windows = {s.name: s for s in run.report.scenarios if s.kind == "production"}
    assert list(windows) == [
        "production_2026-11-01_to_2026-11-07",
        "production_2026-11-08_to_2026-11-14",
        "production_2026-11-15_to_2026-11-21",
    ]
    assert sum(s.rows for s in windows.values()) == 300
    assert all(s.passed for s in windows.values())
    assert all(s.metrics["accuracy"] is not None for s in windows.values())


def test_sql_reader_errors_are_clear(tmp_path: Path, production_table: str) -> None:
    reader = SqlTableReader()
    with pytest.raises(InvalidInputError, match=r"has no table 'aplications'; did you mean 'applications'\?"):
        reader.read_table(production_table, "aplications")
    frame = reader.read_table(production_table, "applications", order_by="applied_at")
    assert len(frame) == 300
    assert pd.to_datetime(frame["applied_at"], utc=True).is_monotonic_increasing


def test_a_missing_url_variable_is_named(
    slipway_home: Slipway, healthy_credit: LoadedArtifact, credit_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLIPWAY_TEST_PRODUCTION_URL", raising=False)
    plan = {
        "scenarios": {
            "production": {
                "sql": {"table": "t", "url_env": "SLIPWAY_TEST_PRODUCTION_URL"},
                "time_column": "at",
            }
        },
        **QUICK,
    }
    with pytest.raises(
        InvalidInputError, match=r"sql\.url_env names 'SLIPWAY_TEST_PRODUCTION_URL', which is not set"
    ):
        slipway_home.validate(str(healthy_credit.path), plan=plan)
