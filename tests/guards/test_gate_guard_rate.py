"""The gate scores through the artifact's guards in observe mode: every row is scored by the model
itself, and each scenario reports ``guard_flag_rate``, usable in expectations."""

from __future__ import annotations

from pathlib import Path

from slipway.api import Slipway
from slipway.artifacts.loader import LoadedArtifact
from support.examples import ExampleData
from support.gate import failed_ids


def test_guard_flag_rate_per_scenario_can_fail_the_gate(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, credit_data: ExampleData, tmp_path: Path
) -> None:
    base = credit_data.holdout.head(300)
    odd = base.assign(income=5e6)  # every row far outside the training range
    base.to_parquet(tmp_path / "base.parquet")
    odd.to_parquet(tmp_path / "odd.parquet")
    (tmp_path / "plan.yaml").write_text(
        "scenarios:\n"
        "  base_case:\n    file: base.parquet\n    expect: ['guard_flag_rate <= 0.9']\n"
        "  rich_applicants:\n    file: odd.parquet\n    expect: ['guard_flag_rate <= 0.1']\n"
    )

    run = slipway_home.validate(
        str(guarded_credit.path), plan=tmp_path / "plan.yaml", report_dir=tmp_path / "r"
    )

    metrics = {scenario.name: scenario.metrics for scenario in run.report.scenarios}
    assert 0 < metrics["base_case"]["guard_flag_rate"] < 0.9
    assert metrics["rich_applicants"]["guard_flag_rate"] == 1.0
    assert metrics["rich_applicants"]["refusal_rate"] == 0.0  # observed, not rejected: the model scored
    assert not run.passed
    assert failed_ids(run.report) == {"rich_applicants::guard_flag_rate <= 0.1"}
