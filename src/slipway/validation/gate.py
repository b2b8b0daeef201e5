"""Run the gate: build the scenarios, score each through the Scorer, measure, judge, report.

    report = run_gate(loaded_artifact, load_plan("tests/plan.yaml"), champion=loaded_champion)
    report.verdict  # "pass" or "fail", with report.failures naming scenario, metric, value, threshold

``run_gate`` does not touch the registry: ``Slipway.validate`` resolves the champion, runs this,
writes the reports and records the run.
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.core.audit import utc_now_iso
from slipway.core.errors import InvalidInputError
from slipway.guards.stages import guard_stages
from slipway.scoring.runtime import Runtime
from slipway.scoring.scorer import Scorer
from slipway.validation import explain, latency, parity, probes
from slipway.validation.derived import CONSISTENCY_KINDS, feature_profiles
from slipway.validation.evaluate import Champion, ScenarioMetrics, judge, plain
from slipway.validation.expressions import MetricRef
from slipway.validation.outcomes import Outcome, score_outcomes
from slipway.validation.plan import Plan, ScenarioSpec
from slipway.validation.plan_checks import check_plan
from slipway.validation.plan_files import PlanSource, plan_digest
from slipway.validation.quality import Task, calibration_bins, default_metrics
from slipway.validation.results import ExpectationResult, GateReport, ScenarioResult
from slipway.validation.scenarios import Binding, ScenarioData, TableReader, build_scenarios, check_features

CLEAN_KINDS = ("file", "function", "synthetic")
ENVIRONMENT_PACKAGES = ("slipway", "numpy", "pandas", "scikit-learn", "scipy", "fairlearn")
HISTOGRAM_SAMPLES = 2000


@dataclass
class GateOptions:
    """What the caller knows beyond the artifact and the plan."""

    champion: LoadedArtifact | None = None
    #: How the champion is named in the report (``credit:1 (credit@champion)``).
    champion_label: str | None = None
    #: Why there is no comparison, said in the report (e.g. no version has the alias yet).
    comparison_note: str | None = None
    runtimes: Sequence[Runtime] = ()
    read_sql: TableReader | None = None
    model: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None


def run_gate(
    artifact: LoadedArtifact, plan: PlanSource | Plan, options: GateOptions | None = None
) -> GateReport:
    options = options or GateOptions()
    source = plan if isinstance(plan, PlanSource) else PlanSource(plan, None, "python")
    return _Run(artifact, source, options).run()


class _Run:
    def __init__(self, artifact: LoadedArtifact, source: PlanSource, options: GateOptions) -> None:
        self.artifact, self.source, self.options = artifact, source, options
        self.plan = source.plan
        self.task = Task.of(artifact.task, artifact.classes, self.plan.positive_class)
        self.target = self.plan.target or artifact.target
        # guards observe (policy flag): the gate measures the model itself, and guard_flag_rate
        self.scorer = Scorer(artifact, stages=guard_stages(artifact, observe_only=True))
        self.champion = Scorer(options.champion) if options.champion is not None else None
        self.outcomes: dict[str, Outcome] = {}
        self.metrics: dict[str, ScenarioMetrics] = {}
        self.global_measures: dict[str, float] = {}
        # The report slices base_case and the scenarios with slice expectations of their own.
        self._sliced_keys = {"base_case"} | {
            key for key, spec in self.plan.scenarios.items() if any(e.ref.column for e in spec.expect)
        }

    def say(self, text: str) -> None:
        if self.options.progress is not None:
            self.options.progress(text)

    def rng(self, name: str) -> np.random.Generator:
        salt = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
        return np.random.default_rng([self.plan.seed, salt])

    def run(self) -> GateReport:
        started, clock = utc_now_iso(), time.perf_counter()
        binding = Binding(
            self.source, self.artifact.features, self.target, self.artifact.profile, self.options.read_sql
        )
        scenarios = build_scenarios(binding)
        check_plan(self.plan, scenarios, self.task, model=self.artifact.name)
        self.global_measures = self._global_measures()
        results = [self._data_scenario(data) for data in scenarios]
        for key, spec in self.plan.scenarios.items():
            if spec.kind in ("stability", "robustness"):
                results.append(self._probe(key, spec))
        plan_failures = []
        if self.plan.user_expectation_count == 0 and not self.plan.allow_no_expectations:
            plan_failures.append(
                "the plan has no expectations: add some, or set allow_no_expectations: true to accept a "
                "gate that checks only crashes, NaN outputs and parity"
            )
        return GateReport(
            model=self._model_facts(),
            plan={"digest": plan_digest(self.source), "source": self.source.source},
            environment=_environment(),
            started_at=started,
            finished_at=utc_now_iso(),
            duration_s=time.perf_counter() - clock,
            scenarios=results,
            comparison=self._comparison_facts(),
            explanations=self._explanations(),
            computational=plain(self.global_measures),
            plan_failures=plan_failures,
        )

    # scenarios with rows -------------------------------------------------------------------

    def _data_scenario(self, data: ScenarioData) -> ScenarioResult:
        result = ScenarioResult(data.name, data.kind, data.purpose, len(data.frame), parent=data.parent)
        result.details.update(data.facts)
        if data.not_applicable is not None:
            result.not_applicable = data.not_applicable
            result.expectations = [
                ExpectationResult(
                    data.name,
                    e.text,
                    e.metric,
                    e.op,
                    float(e.threshold),
                    e.severity,
                    "not_applicable",
                    message=data.not_applicable,
                )
                for e in data.spec.expect
            ]
            return result
        self.say(f"scoring {data.name} ({len(data.frame)} rows)")
        outcome = score_outcomes(self.scorer, data.frame)
        self.outcomes[data.name] = outcome
        metrics = ScenarioMetrics(
            data.name, data.frame, outcome, self.task, self.plan, self.target, self.rng(data.name)
        )
        self.metrics[data.name] = metrics
        if data.kind in CONSISTENCY_KINDS and data.base_rows is not None and data.parent in self.outcomes:
            metrics.measured["mismatch_rate"] = _mismatch(
                outcome, self.outcomes[data.parent], data.base_rows, self.task
            )
        if self._needs_computational(data):
            metrics.measured.update(self._computational(self.scorer, data.frame[outcome.scored], result))
        implicit = self._implicit(data)
        for runtime in self.options.runtimes:
            implicit.append(self._parity(runtime, data, outcome, metrics, result))
        if self._compared(data):
            self._champion(data, metrics, result)
        result.outcomes = outcome.counts()
        result.details.update(
            refusals=dict(outcome.refusals.most_common(5)),
            errors=dict(outcome.errors.most_common(5)),
            examples=outcome.examples,
        )
        if self.task.kind == "classification" and metrics.has_targets and data.key in self._sliced_keys:
            result.details["calibration"] = calibration_bins(metrics.scored_rows(), self.task)
        for column in self.plan.slices.columns:
            if metrics.has_targets and data.key in self._sliced_keys:
                metrics.slice_table(column, list(_slice_metrics(self.task)))
        result.expectations = implicit + [self._judge(metrics, data.name, e) for e in data.spec.expect]
        result.metrics = plain(metrics.report_metrics())
        result.intervals = metrics.intervals_found()
        result.details["slices"] = {column: table.to_dict() for column, table in metrics.slices.items()}
        return result

    def _judge(
        self,
        metrics: ScenarioMetrics | None,
        scenario: str,
        spec: Any,
        value: tuple[float, str] | None = None,
    ) -> ExpectationResult:
        return judge(
            metrics,
            scenario=scenario,
            ref=spec.ref,
            check=spec.text,
            op=spec.op,
            threshold=float(spec.threshold),
            severity=spec.severity,
            use_ci=spec.ci,
            value=value,
            insufficient=self.plan.slices.insufficient,
        )

    def _implicit(self, data: ScenarioData) -> list[ExpectationResult]:
        metrics = self.metrics[data.name]
        own = {e.ref.name for e in data.spec.expect}
        checks = ["error_rate", "nan_rate"]
        if data.kind in CLEAN_KINDS:
            checks.append("refusal_rate")
        if data.kind in CONSISTENCY_KINDS:
            checks.append("mismatch_rate")
        return [
            judge(
                metrics,
                scenario=data.name,
                ref=MetricRef(name),
                check=f"{name} == 0",
                op="==",
                threshold=0.0,
                severity="fail",
                use_ci=False,
                implicit=True,
            )
            for name in checks
            if name not in own
        ]

    def _needs_computational(self, data: ScenarioData) -> bool:
        return data.key == "base_case" or any(e.ref.info.family == "computational" for e in data.spec.expect)

    def _computational(
        self, scorer: Scorer, rows: pd.DataFrame, result: ScenarioResult | None
    ) -> dict[str, float]:
        if rows.empty:
            return {}
        requested = {e.ref.name for s in self.plan.scenarios.values() for e in s.expect}
        samples = latency.single_row_latencies(scorer, rows, self.plan.latency)
        values = {
            **latency.latency_metrics(samples, requested),
            **latency.batch_metrics(scorer, rows, self.plan.latency),
        }
        if result is not None:
            result.details["latency_ms"] = [round(float(v), 4) for v in samples[:HISTOGRAM_SAMPLES]]
            result.details["latency_calls"] = len(samples)
        return {**values, **self.global_measures}

    def _global_measures(self) -> dict[str, float]:
        begin = time.perf_counter()
        load_artifact(self.artifact.path, expected_digest=self.artifact.digest)
        load_time = time.perf_counter() - begin
        size = sum(entry.size for entry in self.artifact.manifest.files)
        return {"load_time_s": load_time, "artifact_size_mb": size / 1e6}

    # parity and comparison -----------------------------------------------------------------

    def _parity(
        self,
        runtime: Runtime,
        data: ScenarioData,
        outcome: Outcome,
        metrics: ScenarioMetrics,
        result: ScenarioResult,
    ) -> ExpectationResult:
        other = score_outcomes(Scorer(self.artifact, runtime=runtime), data.frame)
        found = parity.compare(self.scorer, data.frame, outcome, other, runtime, settings=self.plan.parity)
        metrics.measured["parity_mismatch_rows"] = float(found.mismatched)
        metrics.measured["parity_max_abs_diff"] = found.max_abs_diff
        result.details.setdefault("parity", {})[runtime.name] = {
            "mismatched_rows": found.mismatched,
            "near_threshold_rows": found.near_threshold,
            "max_abs_diff": found.max_abs_diff,
            "reason": found.reason,
            "rows": found.rows,
        }
        check = "runtime_parity" if len(self.options.runtimes) == 1 else f"runtime_parity[{runtime.name}]"
        expectation = judge(
            metrics,
            scenario=data.name,
            ref=MetricRef("parity_mismatch_rows"),
            check=check,
            op="==",
            threshold=0.0,
            severity="fail",
            use_ci=False,
            implicit=True,
            value=(float(found.mismatched), ""),
        )
        if found.mismatched:
            rows = ", ".join(str(r["row"]) for r in found.rows)
            expectation.message = (
                f"{found.mismatched} rows differ between native and {runtime.name} (rows {rows})"
            )
        return expectation

    def _compared(self, data: ScenarioData) -> bool:
        if self.plan.comparison.against is None:
            return False
        chosen = self.plan.comparison.scenarios
        if chosen is not None:
            return data.key in chosen
        return data.key == "base_case" or any(e.ref.comparison for e in data.spec.expect)

    def _champion(self, data: ScenarioData, metrics: ScenarioMetrics, result: ScenarioResult) -> None:
        if self.champion is None:
            metrics.champion_note = self.options.comparison_note or "no champion to compare with"
            result.details["comparison"] = {"champion": None, "note": metrics.champion_note}
            return
        self.say(f"scoring {data.name} on the champion")
        outcome = score_outcomes(self.champion, data.frame)
        champion = Champion(outcome)
        if any(e.ref.comparison and e.ref.info.family == "computational" for e in data.spec.expect):
            champion.computational = self._computational(self.champion, data.frame[outcome.scored], None)
        metrics.champion = champion
        table: dict[str, Any] = {}
        if metrics.has_targets:
            for name in default_metrics(self.task):
                mine, theirs = metrics.pair(name)
                table[name] = {"challenger": mine, "champion": theirs, "delta": mine - theirs}
            primary = "accuracy" if self.task.kind == "classification" else "mae"
            p = metrics.p_worse(primary, higher_is_better=self.task.kind == "classification")
            table[primary]["p_worse"] = p
        result.details["comparison"] = {"champion": self.options.champion_label, "metrics": _finite(table)}

    def _comparison_facts(self) -> dict[str, Any]:
        if self.plan.comparison.against is None:
            return {"against": None, "champion": None, "note": "comparison turned off in the plan"}
        return {
            "against": self.plan.comparison.against,
            "champion": self.options.champion_label,
            "note": self.options.comparison_note if self.options.champion is None else None,
        }

    # probes --------------------------------------------------------------------------------

    def _probe(self, key: str, spec: ScenarioSpec) -> ScenarioResult:
        assert spec.kind is not None  # the plan infers every kind
        base = self.metrics.get(spec.from_)
        if base is None:
            raise InvalidInputError(
                f"scenarios.{key}.from: {spec.from_!r} is not a scenario with rows to probe"
            )
        chosen = check_features(spec.features, self.artifact.features, where=f"scenarios.{key}.features")
        profiles = feature_profiles(self.artifact.profile, chosen, base.frame)
        rng = self.rng(key)
        scored = base.frame[base.outcome.scored]
        limit = probes.default_rows(spec)
        sample = scored.sample(n=min(limit, len(scored)), random_state=self.plan.seed).reset_index(drop=True)
        result = ScenarioResult(key, spec.kind, probes.purpose(spec), len(sample), parent=spec.from_)
        self.say(f"probing {key} ({len(sample)} rows)")
        values, details = probes.run_probe(self.scorer, spec, sample, profiles, task=self.task.kind, rng=rng)
        result.details.update(details)
        result.metrics = plain(values)
        result.expectations = [
            self._judge(
                None,
                key,
                e,
                value=(values.get(e.ref.name, math.nan), "" if e.ref.name in values else "not measured"),
            )
            for e in spec.expect
        ]
        return result

    # explanations and facts ----------------------------------------------------------------

    def _explanations(self) -> dict[str, Any]:
        settings = self.plan.explanations
        metrics = self.metrics.get(settings.scenario)
        if not settings.enabled:
            return {}
        if metrics is None or not metrics.has_targets or self.target is None:
            return {"note": "explanations need a scenario with targets (explanations.scenario)"}
        rows = metrics.frame[metrics.labelled()]
        self.say(f"explaining on {min(settings.rows, len(rows))} rows of {settings.scenario}")
        return explain.explain(self.scorer, rows, self.target, self.task, settings, seed=self.plan.seed)

    def _model_facts(self) -> dict[str, Any]:
        section = self.artifact.manifest.model
        return {
            "name": self.artifact.name,
            "digest": self.artifact.digest,
            "flavor": section.flavor,
            "task": section.task,
            "target": self.target,
            "features": list(section.features),
            "classes": list(section.classes) if section.classes is not None else None,
            "positive_class": self.task.positive,
            **self.options.model,
        }


def _slice_metrics(task: Task) -> tuple[str, ...]:
    if task.kind == "classification":
        return ("accuracy", "recall", "selection_rate", "false_positive_rate")
    return ("rmse", "mae")


def _mismatch(outcome: Outcome, base: Outcome, base_rows: np.ndarray, task: Task) -> float:
    both = outcome.scored & base.scored[base_rows]
    if not both.any():
        return 0.0
    mine, theirs = outcome.predictions[both], base.predictions[base_rows][both]
    if task.kind == "regression":
        differs = ~np.isclose(mine.astype(np.float64), theirs.astype(np.float64), rtol=1e-7, atol=1e-9)
    else:
        differs = mine != theirs
    return float(np.sum(differs) / len(outcome))


def _finite(table: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) if isinstance(v, dict) else v for k, v in table.items()}


def _environment() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in ENVIRONMENT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "native_threads": 1,
        "packages": versions,
    }
