"""Plans: YAML and Python give the same plan; every plan mistake is a clear error with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from slipway.artifacts.loader import LoadedArtifact
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.validation.gate import run_gate
from slipway.validation.plan import Plan, ScenarioSpec
from slipway.validation.plan_files import PlanSource, load_plan, parse_plan, plan_digest


def plan(**scenarios: Any) -> dict[str, Any]:
    return {"scenarios": scenarios or {"base_case": {"file": "base_case.parquet"}}}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            plan(base_case={"file": "b.parquet", "expect": ["acuracy >= 0.8"]}),
            r"scenarios\.base_case\.expect\[0\]: unknown metric 'acuracy'; did you mean 'accuracy'\?",
        ),
        (
            plan(missing_value={}),
            r"scenarios\.missing_value: unknown scenario 'missing_value'; did you mean 'missing_values'\?",
        ),
        (
            plan(
                base_case={"file": "b.parquet", "expect": [{"metric": "r2", "op": ">=", "threshold": "high"}]}
            ),
            r"scenarios\.base_case\.expect\[0\]\.threshold: Input should be a valid number \(got 'high'\)",
        ),
        (
            plan(
                base_case={"file": "b.parquet", "expect": [{"metric": "r2", "op": ">=", "threshold": True}]}
            ),
            r"expect\[0\]\.threshold: Input should be a valid number \(got True\)",
        ),
        (
            plan(base_case={"file": "b.parquet", "expect": ["r2 >= high"]}),
            r"threshold 'high' is not a number",
        ),
        (
            plan(base_case={"file": "b.parquet", "expect": ["r2 => 0.5"]}),
            r"cannot read metric 'r2 =': use e.g. 'rmse'",
        ),
        (
            plan(base_case={"file": "b.parquet", "epsilom": 0.1}),
            r"scenarios\.base_case\.epsilom: unknown key 'epsilom'; did you mean 'epsilon'\?",
        ),
        (
            plan(base_case={"file": "b.parquet", "epsilon": 0.1}),
            r"'epsilon' does not apply to a file scenario",
        ),
        (
            plan(missing_values={"from": "basecase"}, base_case={"file": "b"}),
            r"scenarios\.missing_values\.from: unknown scenario 'basecase'; did you mean 'base_case'\?",
        ),
        (
            plan(base_case={"file": "b", "expect": ["recall_gap >= 0.1"]}),
            r"a gap needs a column, e\.g\. recall_gap\[gender\]",
        ),
        (
            plan(base_case={"file": "b", "expect": ["demographic_parity_difference <= 0.1"]}),
            r"needs a column",
        ),
        (
            plan(base_case={"file": "b", "expect": ["p_worse(latency_p95_ms) >= 0.05"]}),
            r"the paired test compares quality",
        ),
        ({"scenarios": {}}, r"scenarios: Dictionary should have at least 1 item"),
        ([1, 2], r"a plan is a mapping with 'scenarios', got list"),
    ],
    ids=[
        "unknown-metric",
        "unknown-scenario",
        "threshold-text",
        "threshold-bool",
        "threshold-in-check",
        "bad-operator",
        "misspelt-key",
        "key-of-another-kind",
        "unknown-from",
        "gap-without-column",
        "fairness-without-column",
        "p-worse-of-latency",
        "no-scenarios",
        "not-a-mapping",
    ],
)
def test_plan_errors_name_the_key_and_the_value(data: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        parse_plan(data, source="plan.yaml")


def test_a_plan_from_python_equals_the_one_from_yaml(tmp_path: Path) -> None:
    text = """
    scenarios:
      base_case:
        file: base_case.parquet
        expect: [rmse <= 100, {check: r2 >= 0.5, ci: true, severity: warn}]
      missing_values:
    bootstrap: {resamples: 50}
    """
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(yaml.safe_load(text)))
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "base_case.parquet")
    from_yaml = load_plan(tmp_path)
    from_python = Plan(
        scenarios={
            "base_case": ScenarioSpec(
                file="base_case.parquet",
                expect=["rmse <= 100", {"check": "r2 >= 0.5", "ci": True, "severity": "warn"}],
            ),
            "missing_values": ScenarioSpec(),
        },
        bootstrap={"resamples": 50},
    )
    assert from_yaml.plan == from_python
    assert from_yaml.plan.scenarios["missing_values"].kind == "missing_values"
    expectation = from_yaml.plan.scenarios["base_case"].expect[1]
    assert (
        expectation.metric,
        expectation.op,
        expectation.threshold,
        expectation.ci,
        expectation.severity,
    ) == ("r2", ">=", 0.5, True, "warn")
    assert plan_digest(from_yaml) == plan_digest(PlanSource(from_python, tmp_path, "python"))


def test_the_plan_digest_covers_the_data_it_reads(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "base_case.parquet")
    source = PlanSource(parse_plan(plan()), tmp_path, "plan.yaml")
    before = plan_digest(source)
    pd.DataFrame({"a": [2]}).to_parquet(tmp_path / "base_case.parquet")
    assert plan_digest(source) != before


def test_a_missing_plan_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"validation plan .*plan\.yaml' does not exist"):
        load_plan(tmp_path)
    (tmp_path / "plan.yaml").write_text("scenarios: [unclosed")
    with pytest.raises(InvalidInputError, match=r"not valid YAML"):
        load_plan(tmp_path)


@pytest.mark.parametrize(
    ("scenarios", "options", "match"),
    [
        (
            {"base_case": {"data": "holdout_without_target", "expect": ["accuracy >= 0.5"]}},
            {},
            r"scenarios\.base_case: the data has no target column 'default'; did you mean 'defaults'\?",
        ),
        (
            {"base_case": {"data": "holdout", "expect": ["recall[gendr=F] >= 0.5"]}},
            {},
            r"slice column 'gendr' is not in scenario base_case; did you mean 'gender'\?",
        ),
        (
            {"base_case": {"data": "holdout"}},
            {"slices": {"columns": ["sex"]}},
            r"slices\.columns: slice column 'sex' is not in scenario base_case",
        ),
        (
            {"base_case": {"data": "holdout", "expect": ["recall[gender=X] >= 0.5"]}},
            {},
            r"no row of scenario base_case has gender='X'; values: F, M",
        ),
        (
            {"base_case": {"data": "holdout", "expect": ["rmse <= 5"]}},
            {},
            r"rmse is a regression metric, and credit is a classification model",
        ),
        (
            {"base_case": {"data": "holdout"}, "missing_values": {"features": ["incme"]}},
            {},
            r"scenarios\.missing_values\.features: unknown feature 'incme'; did you mean 'income'\?",
        ),
        (
            {"base_case": {"data": "holdout", "expect": ["flip_rate <= 0.1"]}},
            {},
            r"flip_rate is measured by a robustness scenario; move it there",
        ),
        (
            {"base_case": {"data": "holdout"}, "synthetic": {"expect": ["accuracy >= 0.5"]}},
            {},
            r"accuracy needs the target, and scenario synthetic has none",
        ),
        (
            {"base_case": {"file": "nowhere.parquet"}},
            {},
            r"scenarios\.base_case\.file file '.*nowhere\.parquet' does not exist",
        ),
    ],
    ids=[
        "scenario-without-target",
        "unknown-slice-column",
        "unknown-report-slice",
        "unknown-slice-value",
        "metric-of-other-task",
        "unknown-feature",
        "probe-metric-on-data",
        "quality-without-target",
        "missing-file",
    ],
)
def test_plan_errors_found_against_the_model_and_data(
    healthy_credit: LoadedArtifact,
    credit_data: Any,
    tmp_path: Path,
    scenarios: dict[str, Any],
    options: dict[str, Any],
    match: str,
) -> None:
    frames = {
        "holdout": credit_data.holdout,
        "holdout_without_target": credit_data.holdout.rename(columns={"default": "defaults"}),
    }
    for spec in scenarios.values():
        if "data" in spec:
            spec["data"] = frames[spec["data"]]
    source = PlanSource(parse_plan({"scenarios": scenarios, **options}), tmp_path, "plan")
    with pytest.raises((InvalidInputError, NotFoundError), match=match):
        run_gate(healthy_credit, source)


def test_a_plan_without_expectations_fails_unless_allowed(
    healthy_credit: LoadedArtifact, credit_data: Any
) -> None:
    quick = {"latency": {"warmup": 1, "calls": 3, "max_seconds": 1.0}, "explanations": {"enabled": False}}
    scenarios = {"base_case": {"data": credit_data.holdout.head(200)}}
    report = run_gate(healthy_credit, parse_plan({"scenarios": scenarios, **quick}))
    assert report.verdict == "fail"
    assert report.failures == []
    assert report.plan_failures[0].startswith(
        "the plan has no expectations: add some, or set allow_no_expectations"
    )
    allowed = run_gate(
        healthy_credit, parse_plan({"scenarios": scenarios, "allow_no_expectations": True, **quick})
    )
    assert allowed.verdict == "pass"
    assert {e.check for e in allowed.expectations} == {
        "error_rate == 0",
        "nan_rate == 0",
        "refusal_rate == 0",
    }
