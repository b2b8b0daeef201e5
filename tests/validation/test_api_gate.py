"""The gate through the API and the CLI: runs stored and audited, statuses, the alias rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from slipway.api import Slipway
from slipway.cli.main import main
from slipway.core.errors import ConflictError, GateFailedError, InvalidInputError, NotFoundError
from slipway.core.records import VersionStatus
from slipway.examples import credit
from support.gate import ZOO

SMALL_PLAN = {
    "positive_class": 1,
    "scenarios": {
        "base_case": {
            "file": "base_case.parquet",
            "expect": ["accuracy >= 0.72", "delta(accuracy) >= -0.02", "p_worse(accuracy) >= 0.05"],
        },
        "missing_values": {"rows": 50, "features": ["income", "credit_history_years"]},
    },
    "latency": {"warmup": 1, "calls": 5, "max_seconds": 1.0, "batch_size": 100, "batch_repeats": 1},
    "bootstrap": {"resamples": 20},
    "explanations": {"enabled": False},
}


@pytest.fixture(scope="module")
def small_tests(tmp_path_factory: pytest.TempPathFactory, credit_data: Any) -> Path:
    folder = tmp_path_factory.mktemp("small-plan")
    (folder / "plan.yaml").write_text(yaml.safe_dump(SMALL_PLAN))
    credit_data.holdout.to_parquet(folder / "base_case.parquet", index=False)
    return folder


@pytest.fixture
def registered(
    slipway_home: Slipway, small_tests: Path, credit_data: Any, credit_model: Any, zoo: Any
) -> Slipway:
    """credit:1 healthy, credit:2 slightly worse (python flavor)."""
    options = {
        "name": "credit",
        "train": credit_data.train,
        "target": credit.TARGET,
        "exclude": [credit.SENSITIVE],
        "tests": small_tests,
    }
    slipway_home.register(slipway_home.build(credit_model, **options))
    slipway_home.register(
        slipway_home.build(zoo.SlightlyWorse(credit_model), code=[ZOO], flavor="python", **options)
    )
    return slipway_home


def test_validate_stores_audits_and_sets_the_status(registered: Slipway, tmp_path: Path) -> None:
    run = registered.validate("credit:1", report_dir=tmp_path / "r1")
    assert run.passed
    assert (
        run.report.comparison["note"]
        == "no version of credit has the alias 'champion' yet: nothing to compare with"
    )
    assert sorted(p.name for p in (tmp_path / "r1").iterdir()) == ["junit.xml", "report.html", "report.json"]
    assert run.record is not None
    assert run.record.verdict == "pass"
    assert run.record.reports["html"] == str((tmp_path / "r1" / "report.html").resolve())
    assert registered.resolve("credit:1").status is VersionStatus.VALIDATED
    [stored] = registered.validation_runs("credit:1")
    assert stored.results["verdict"] == "pass"
    assert stored.plan_digest == run.report.plan["digest"]
    event = registered.audit_log("credit")[-1]
    assert (event.action, event.subject) == ("validation.passed", "credit:1")
    assert event.after is not None
    assert event.after["status"] == "validated"
    assert event.after["run"] == stored.id
    assert registered.verify_audit().ok


@pytest.mark.slow
def test_champion_needs_a_passed_gate_unless_forced(registered: Slipway, tmp_path: Path) -> None:
    with pytest.raises(
        ConflictError, match=r"refusing to point credit@champion at version 1: it has never been validated"
    ):
        registered.set_alias("credit", "champion", 1)
    registered.validate("credit:1", report_dir=tmp_path / "r1")
    registered.set_alias("credit", "champion", 1, reason="passed its gate")
    registered.set_alias("credit", "staging", 2)  # other aliases are not gated

    run = registered.validate("credit:2", report_dir=tmp_path / "r2")
    assert not run.passed
    assert run.report.comparison["champion"] == "credit:1 (credit@champion)"
    assert [f.id for f in run.report.failures] == ["base_case::p_worse(accuracy) >= 0.05"]
    with pytest.raises(
        GateFailedError,
        match=r"credit:2 failed its gate: base_case::p_worse\(accuracy\) >= 0\.05: p_worse\(accuracy\) = ",
    ):
        run.check()
    assert registered.resolve("credit:2").status is VersionStatus.REJECTED
    assert registered.audit_log("credit")[-1].action == "validation.failed"

    with pytest.raises(ConflictError, match=r"it failed its latest gate \(run 2, .*--force --reason"):
        registered.set_alias("credit", "production", 2)
    with pytest.raises(InvalidInputError, match=r"overriding the gate needs a reason"):
        registered.set_alias("credit", "production", 2, force=True)
    registered.set_alias("credit", "production", 2, force=True, reason="hotfix approved by risk team")
    event = registered.audit_log("credit")[-1]
    assert (event.action, event.subject) == ("alias.set", "credit@production")
    assert event.after == {
        "version": 2,
        "forced": True,
        "gate": "failed",
        "run": 2,
        "reason": "hotfix approved by risk team",
    }
    assert registered.resolve("credit@production").version == 2


def test_validating_needs_a_plan(slipway_home: Slipway, credit_artifact: Any) -> None:
    with pytest.raises(
        NotFoundError, match=r"has no validation plan \(tests/plan\.yaml\): build it with tests=DIR"
    ):
        slipway_home.validate(str(credit_artifact.path))


def test_an_artifact_folder_is_validated_but_not_recorded(
    slipway_home: Slipway, credit_artifact: Any, small_tests: Path, tmp_path: Path
) -> None:
    run = slipway_home.validate(
        str(credit_artifact.path), plan=small_tests / "plan.yaml", report_dir=tmp_path
    )
    assert run.passed
    assert run.record is None
    assert run.report.model["ref"] is None


@pytest.mark.slow
def test_cli_validate_exits_by_verdict(
    registered: Slipway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ["--home", str(registered.settings.home)]
    assert main([*home, "validate", "credit:1", "--report-dir", str(tmp_path / "one"), "-q"]) == 0
    assert "PASS  credit:1" in capsys.readouterr().out
    assert main([*home, "alias", "set", "credit", "champion", "1"]) == 0
    assert main([*home, "validate", "credit:2", "--report-dir", str(tmp_path / "two"), "-q"]) == 7
    captured = capsys.readouterr()
    assert "FAIL  credit:2" in captured.out
    assert "failed expectations" in captured.out
    assert "junit report" in captured.out
    assert "error: credit:2 failed its gate: base_case::p_worse(accuracy) >= 0.05" in captured.err
    assert (tmp_path / "two" / "junit.xml").is_file()
    assert main([*home, "alias", "set", "credit", "champion", "2"]) == 4
    assert "refusing to point credit@champion" in capsys.readouterr().err
    assert (
        main([*home, "alias", "set", "credit", "champion", "2", "--force", "--reason", "accepted risk"]) == 0
    )
    assert main([*home, "validations", "credit:2"]) == 0
    assert "fail" in capsys.readouterr().out
    assert main([*home, "validate", "credit:1", "--plan", str(tmp_path / "nope.yaml")]) == 3
