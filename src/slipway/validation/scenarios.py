"""Turn the plan's scenario entries into named datasets, each with one purpose.

Files, functions, production windows and synthetic rows come first; derived scenarios are then
generated from the dataset named by their ``from`` (``base_case`` by default). Stability and
robustness scenarios are probes on a base dataset and carry no rows of their own here.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slipway.artifacts.datasets import read_table
from slipway.core.errors import InvalidInputError
from slipway.core.profile import DataProfile
from slipway.validation.derived import GENERATORS, feature_profiles
from slipway.validation.plan import DERIVED_KINDS, ScenarioSpec, SqlSource
from slipway.validation.plan_files import PlanSource
from slipway.validation.synthetic import sample_profile
from slipway.validation.windows import split_windows

DERIVED_ROWS = 500
SYNTHETIC_ROWS = 1000
PROBE_KINDS = ("stability", "robustness")
TableReader = Callable[[SqlSource], pd.DataFrame]


@dataclass
class ScenarioData:
    name: str
    kind: str
    purpose: str
    spec: ScenarioSpec
    frame: pd.DataFrame
    has_target: bool
    #: The scenario this one was generated from, and each row's position in it.
    parent: str | None = None
    base_rows: np.ndarray | None = None
    #: Why the scenario has no rows (e.g. no categorical feature to give unseen categories).
    not_applicable: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    #: The plan entry this dataset comes from (``missing_values`` for ``missing_values[age]``).
    key: str = ""


@dataclass(frozen=True)
class ScenarioContext:
    """What a scenario function receives: the base rows and what the model expects."""

    base: pd.DataFrame | None
    features: tuple[str, ...]
    target: str | None
    profile: DataProfile | None
    rng: np.random.Generator


@dataclass(frozen=True)
class Binding:
    """The plan bound to an artifact: features, target and profile the datasets are checked against."""

    source: PlanSource
    features: tuple[str, ...]
    target: str | None
    profile: DataProfile | None
    read_sql: TableReader | None = None


def build_scenarios(binding: Binding) -> list[ScenarioData]:
    plan = binding.source.plan
    built: dict[str, ScenarioData] = {}
    ordered: list[ScenarioData] = []
    for name, spec in plan.scenarios.items():
        if spec.kind in (*DERIVED_KINDS, *PROBE_KINDS):
            continue
        for scenario in _primary(binding, name, spec):
            scenario.key = name
            built[scenario.name] = scenario
            ordered.append(scenario)
    for name, spec in plan.scenarios.items():
        if spec.kind in DERIVED_KINDS:
            for scenario in _derived(binding, name, spec, _base(built, name, spec)):
                scenario.key = name
                ordered.append(scenario)
    ordered.sort(key=lambda s: s.name != "base_case")  # base_case runs first
    return ordered


def _rng(binding: Binding, name: str) -> np.random.Generator:
    salt = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    return np.random.default_rng([binding.source.plan.seed, salt])


def _primary(binding: Binding, name: str, spec: ScenarioSpec) -> list[ScenarioData]:
    where = f"scenarios.{name}"
    if spec.kind == "synthetic":
        return [_synthetic(binding, name, spec)]
    if spec.kind == "function":
        frame = _call_function(binding, name, spec, where)
        return [_checked(binding, name, spec, frame, purpose=spec.purpose or f"rows from {_fn_name(spec)}")]
    frame = _read(binding, spec, where)
    if spec.kind == "production":
        return _windows(binding, name, spec, frame, where)
    shown = spec.file or "a DataFrame"
    default = "the fixed reference dataset, run first" if name == "base_case" else f"rows from {shown}"
    return [
        _checked(
            binding,
            name,
            spec,
            _limit(frame, spec.rows, _rng(binding, name)),
            purpose=spec.purpose or default,
        )
    ]


def _read(binding: Binding, spec: ScenarioSpec, where: str) -> pd.DataFrame:
    if spec.data is not None:
        if not isinstance(spec.data, pd.DataFrame):
            raise InvalidInputError(
                f"{where}.data: expected a pandas DataFrame, got {type(spec.data).__name__}"
            )
        return spec.data.reset_index(drop=True)
    if spec.sql is not None:
        if binding.read_sql is None:
            raise InvalidInputError(
                f"{where}.sql: reading SQL tables needs the slipway API (Slipway.validate)"
            )
        return binding.read_sql(spec.sql)
    if spec.file is None:
        raise InvalidInputError(f"{where}: give a file (or data, or sql) for this scenario")
    return read_table(binding.source.path(spec.file), what=f"{where}.file").reset_index(drop=True)


def _limit(frame: pd.DataFrame, rows: int | None, rng: np.random.Generator) -> pd.DataFrame:
    if rows is None or rows >= len(frame):
        return frame
    picked = np.sort(rng.choice(len(frame), size=rows, replace=False))
    return frame.iloc[picked].reset_index(drop=True)


def _checked(
    binding: Binding,
    name: str,
    spec: ScenarioSpec,
    frame: pd.DataFrame,
    *,
    purpose: str,
    need_target: bool = True,
) -> ScenarioData:
    where = f"scenarios.{name}"
    columns = [str(c) for c in frame.columns]
    missing = [f for f in binding.features if f not in columns]
    if missing:
        raise InvalidInputError(
            f"{where}: the data has no column {missing[0]!r}, which the model takes; "
            f"{_columns_hint(missing[0], columns)}"
        )
    has_target = binding.target is not None and binding.target in columns
    if need_target and binding.target is not None and not has_target:
        raise InvalidInputError(
            f"{where}: the data has no target column {binding.target!r}; "
            f"{_columns_hint(binding.target, columns)} (set 'target:' in the plan if it has another name)"
        )
    if frame.empty:
        raise InvalidInputError(f"{where}: the data has no rows")
    return ScenarioData(name, spec.kind or "file", purpose, spec, frame, has_target)


def _columns_hint(column: str, columns: Sequence[str]) -> str:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}columns: {', '.join(columns)}"


def _synthetic(binding: Binding, name: str, spec: ScenarioSpec) -> ScenarioData:
    if binding.profile is None:
        raise InvalidInputError(
            f"scenarios.{name}: synthetic rows are drawn from the training profile, and this artifact "
            "has none; build it with train=... or remove the scenario"
        )
    frame = sample_profile(binding.profile, spec.rows or SYNTHETIC_ROWS, _rng(binding, name))
    purpose = spec.purpose or "rows drawn from the training profile"
    return ScenarioData(name, "synthetic", purpose, spec, frame, has_target=False)


def _windows(
    binding: Binding, name: str, spec: ScenarioSpec, frame: pd.DataFrame, where: str
) -> list[ScenarioData]:
    if spec.time_column is None:
        raise InvalidInputError(
            f"{where}: production rows need time_column: the column holding each row's time"
        )
    result = []
    for label, start, end, rows in split_windows(
        frame, name=name, time_column=spec.time_column, every=spec.every, where=where
    ):
        purpose = spec.purpose or f"production rows from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (UTC)"
        scenario = _checked(binding, label, spec, rows, purpose=purpose, need_target=False)
        scenario.parent = name
        scenario.facts.update(window_start=start.isoformat(), window_end=end.isoformat())
        result.append(scenario)
    if not result:
        raise InvalidInputError(f"{where}: the production data has no rows")
    return result


def _fn_name(spec: ScenarioSpec) -> str:
    function = spec.function
    return function if isinstance(function, str) else getattr(function, "__qualname__", "a function")


def _call_function(binding: Binding, name: str, spec: ScenarioSpec, where: str) -> pd.DataFrame:
    function = spec.function
    if isinstance(function, str):
        function = _import_function(binding, function, where)
    if not callable(function):
        raise InvalidInputError(f"{where}.function: {function!r} is not callable")
    base = None
    if spec.from_ in binding.source.plan.scenarios and spec.from_ != name:
        base_spec = binding.source.plan.scenarios[spec.from_]
        if base_spec.kind == "file":
            base = _read(binding, base_spec, f"scenarios.{spec.from_}")
    context = ScenarioContext(base, binding.features, binding.target, binding.profile, _rng(binding, name))
    frame = function(context)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"{where}.function: {_fn_name(spec)} returned {type(frame).__name__}, not a DataFrame"
        )
    return frame.reset_index(drop=True)


def _import_function(binding: Binding, entry: str, where: str) -> Callable[..., Any]:
    from slipway.artifacts.code_import import import_entry

    folder = binding.source.base_dir
    if folder is None:
        raise InvalidInputError(
            f"{where}.function: {entry!r} is resolved in the plan's folder, and this plan has none"
        )
    namespace = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    try:
        found = import_entry(folder, entry, namespace=f"plan_{namespace}")
    except Exception as exc:  # user code: any import failure is a plan error
        raise InvalidInputError(f"{where}.function: cannot import {entry!r} from {folder}: {exc}") from exc
    return found  # type: ignore[no-any-return]


def _base(built: dict[str, ScenarioData], name: str, spec: ScenarioSpec) -> ScenarioData:
    base = built.get(spec.from_)
    if base is None:
        raise InvalidInputError(
            f"scenarios.{name}.from: {spec.from_!r} has no rows of its own to derive from "
            "(use a file, function or synthetic scenario)"
        )
    return base


def _derived(binding: Binding, name: str, spec: ScenarioSpec, base: ScenarioData) -> list[ScenarioData]:
    assert spec.kind is not None  # the plan infers every kind
    chosen = check_features(spec.features, binding.features, where=f"scenarios.{name}.features")
    profiles = feature_profiles(binding.profile, chosen, base.frame)
    rng = _rng(binding, name)
    size = spec.rows or DERIVED_ROWS
    rows = (
        np.arange(len(base.frame))
        if size >= len(base.frame)
        else np.sort(rng.choice(len(base.frame), size=size, replace=False))
    )
    sample = base.frame.iloc[rows].reset_index(drop=True)
    variants = GENERATORS[spec.kind](sample, rows, profiles)
    if not variants:
        empty = base.frame.iloc[:0]
        reason = f"the model has no feature a {spec.kind} scenario applies to"
        return [ScenarioData(name, spec.kind, reason, spec, empty, base.has_target, base.name, None, reason)]
    return [
        ScenarioData(
            f"{name}[{variant.suffix}]" if variant.suffix else name,
            spec.kind,
            spec.purpose or variant.purpose,
            spec,
            variant.frame,
            base.has_target,
            parent=base.name,
            base_rows=variant.base_rows,
        )
        for variant in variants
    ]


def check_features(chosen: Sequence[str] | None, features: Sequence[str], *, where: str) -> tuple[str, ...]:
    if chosen is None:
        return tuple(features)
    for name in chosen:
        if name not in features:
            raise InvalidInputError(
                f"{where}: unknown feature {name!r}; {_columns_hint(name, list(features))}"
            )
    return tuple(chosen)
