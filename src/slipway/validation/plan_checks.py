"""Checks of a plan against the model and the scenario data, made before anything is scored.

A metric the model's task cannot have, a metric in the wrong kind of scenario, a quality metric
on rows without targets, a slice column the data does not have, a slice value no row holds:
each is an InvalidInputError naming the plan key, the value, and the way out.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from slipway.core.errors import InvalidInputError
from slipway.validation.fairness import slice_labels
from slipway.validation.plan import Plan
from slipway.validation.quality import Task
from slipway.validation.scenarios import PROBE_KINDS, ScenarioData

_PROBE_FAMILY = {"stability": "stability", "robustness": "robustness"}


def check_plan(plan: Plan, scenarios: Sequence[ScenarioData], task: Task, *, model: str) -> None:
    by_key: dict[str, list[ScenarioData]] = {}
    for scenario in scenarios:
        by_key.setdefault(scenario.key, []).append(scenario)
    for key, spec in plan.scenarios.items():
        for index, expectation in enumerate(spec.expect):
            where = f"scenarios.{key}.expect[{index}] ({expectation.text!r})"
            ref = expectation.ref
            info = ref.info
            kind = spec.kind or "file"
            _check_family(info.family, kind, task, where=where, model=model, name=info.name)
            if info.is_quality or info.family == "fairness":
                for scenario in by_key.get(key, []):
                    if not scenario.has_target and scenario.not_applicable is None:
                        raise InvalidInputError(
                            f"{where}: {info.name} needs the target, and scenario {scenario.name} has none"
                        )
            if ref.column is not None:
                for scenario in by_key.get(key, []):
                    check_slice(scenario, ref.column, ref.value, bins=plan.slices.bins, where=where)
    for column in plan.slices.columns:
        for scenario in scenarios:
            if scenario.key == "base_case":
                check_slice(scenario, column, None, bins=plan.slices.bins, where="slices.columns")


def _check_family(family: str, kind: str, task: Task, *, where: str, model: str, name: str) -> None:
    if family in ("classification", "regression", "fairness"):
        needed = "classification" if family == "fairness" else family
        if task.kind != needed:
            raise InvalidInputError(
                f"{where}: {name} is a {needed} metric, and {model} is a {task.kind} model"
            )
    if kind in PROBE_KINDS and family != _PROBE_FAMILY[kind]:
        raise InvalidInputError(f"{where}: a {kind} scenario measures {_PROBE_NAMES[kind]}, not {name}")
    if kind not in PROBE_KINDS and family in ("stability", "robustness"):
        raise InvalidInputError(f"{where}: {name} is measured by a {family} scenario; move it there")
    if name == "changed_share" and task.kind != "classification":
        raise InvalidInputError(f"{where}: changed_share is for classifiers; use relative_change_p95")
    if name.startswith("relative_change") and task.kind != "regression":
        raise InvalidInputError(f"{where}: {name} is for regressions; use changed_share")


_PROBE_NAMES = {
    "stability": "changed_share or relative_change_mean/_p95/_max",
    "robustness": "flip_rate",
}


def check_slice(scenario: ScenarioData, column: str, value: str | None, *, bins: int, where: str) -> None:
    columns = [str(c) for c in scenario.frame.columns]
    if column not in columns:
        close = difflib.get_close_matches(column, columns, n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        raise InvalidInputError(
            f"{where}: slice column {column!r} is not in scenario {scenario.name};{hint} "
            f"columns: {', '.join(columns)}"
        )
    if value is not None:
        labels = sorted(set(slice_labels(scenario.frame[column], bins=bins)))
        if value not in labels:
            raise InvalidInputError(
                f"{where}: no row of scenario {scenario.name} has {column}={value!r}; "
                f"values: {', '.join(labels[:20])}"
            )
