"""The validation plan: scenarios, expectations and settings, as pydantic models.

The same plan comes from YAML (``plan_files.load_plan``) or from Python::

    Plan(scenarios={
        "base_case": ScenarioSpec(data=holdout, expect=["rmse <= 60000"]),
        "missing_values": ScenarioSpec(),
    })

Every model forbids unknown keys, so a typo is an error naming the key, never a silent default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveInt,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from slipway.validation.expressions import MetricRef, Op, parse_check, parse_metric_ref

DERIVED_KINDS = (
    "missing_values",
    "extreme_values",
    "unseen_categories",
    "wrong_types",
    "duplicated_rows",
    "empty_strings",
)
ScenarioKind = Literal[
    "file",
    "function",
    "synthetic",
    "production",
    "stability",
    "robustness",
    "missing_values",
    "extreme_values",
    "unseen_categories",
    "wrong_types",
    "duplicated_rows",
    "empty_strings",
]
BUILT_IN_NAMES = (*DERIVED_KINDS, "synthetic", "stability", "robustness")
Severity = Literal["fail", "warn"]

# Which optional keys make sense for each kind; any other key set on a scenario is a plan error.
_COMMON = {"kind", "purpose", "expect", "rows"}
_KIND_KEYS: dict[str, set[str]] = {
    "file": {"file", "data"},
    "function": {"function", "from_"},
    "synthetic": set(),
    "production": {"file", "data", "sql", "time_column", "every"},
    "stability": {"from_", "features", "relative", "absolute", "noise"},
    "robustness": {"from_", "features", "epsilon", "budget", "threshold"},
    **{kind: {"from_", "features"} for kind in DERIVED_KINDS},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExpectationSpec(_Strict):
    """``metric op threshold`` with a severity; ``ci: true`` makes the bootstrap interval's
    pessimistic bound, not only the point estimate, clear the threshold."""

    metric: str
    op: Op
    threshold: StrictFloat | StrictInt
    severity: Severity = "fail"
    ci: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = {"check": value}
        if isinstance(value, dict) and "check" in value:
            rest = {key: item for key, item in value.items() if key != "check"}
            if not isinstance(value["check"], str):
                raise ValueError(f"check must be text like 'accuracy >= 0.8', got {value['check']!r}")
            ref, op, threshold = parse_check(value["check"])
            return {"metric": str(ref), "op": op, "threshold": _number(threshold), **rest}
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return str(parse_metric_ref(value))

    @property
    def ref(self) -> MetricRef:
        return parse_metric_ref(self.metric)

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"threshold {text!r} is not a number") from None


class SqlSource(_Strict):
    """Rows from a SQL table; ``url_env`` names an environment variable holding the URL, so a
    password never sits in the plan."""

    table: str
    url: str | None = None
    url_env: str | None = None

    @model_validator(mode="after")
    def _one_url(self) -> SqlSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


class ScenarioSpec(_Strict):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )

    kind: ScenarioKind | None = None
    purpose: str | None = None
    #: A .parquet or .csv file, relative to the plan's folder.
    file: str | None = None
    #: A DataFrame (Python API only).
    data: Any = Field(default=None, exclude=True)
    #: ``module:function`` in the plan's folder, or a callable (Python API): f(context) -> DataFrame.
    function: str | Callable[..., Any] | None = Field(default=None, exclude=True)
    from_: str = Field(default="base_case", alias="from")
    rows: PositiveInt | None = None
    features: list[str] | None = None
    sql: SqlSource | None = None
    time_column: str | None = None
    every: str | None = None
    relative: NonNegativeFloat | None = None
    absolute: dict[str, NonNegativeFloat] | None = None
    noise: NonNegativeFloat | None = None
    epsilon: NonNegativeFloat | None = None
    budget: PositiveInt | None = None
    threshold: NonNegativeFloat | None = None
    expect: list[ExpectationSpec] = Field(default_factory=list)

    def check_keys(self, name: str) -> None:
        """Refuse keys that mean nothing for this scenario's kind."""
        kind = self.kind or "file"
        unused = sorted(self.model_fields_set - _COMMON - _KIND_KEYS[kind])
        if unused:
            shown = "from" if unused[0] == "from_" else unused[0]
            raise ValueError(f"scenarios.{name}: {shown!r} does not apply to a {kind} scenario")


class SliceSettings(_Strict):
    """Columns to slice every quality scenario by in the report, and the minimum slice size."""

    columns: list[str] = Field(default_factory=list)
    min_size: PositiveInt = 30
    #: Numeric columns with more distinct values than this are cut into quantile bins.
    bins: PositiveInt = 4
    #: What a slice expectation is when a slice is smaller than ``min_size``: never a pass.
    insufficient: Severity = "fail"


class BootstrapSettings(_Strict):
    resamples: int = Field(default=200, ge=10, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


class LatencySettings(_Strict):
    warmup: int = Field(default=20, ge=0)
    calls: PositiveInt = 200
    #: Stop measuring single rows after this long (a slow model still gets a verdict quickly).
    max_seconds: float = Field(default=10.0, gt=0)
    batch_size: PositiveInt = 1000
    batch_repeats: PositiveInt = 3


class ComparisonSettings(_Strict):
    #: The alias of the version to compare with; null turns the comparison off.
    against: str | None = "champion"
    #: Scenarios scored on both versions [those with comparison expectations, and base_case].
    scenarios: list[str] | None = None


class ParitySettings(_Strict):
    """Tolerances of runtime parity (see ``slipway.runtimes.parity``)."""

    rtol: NonNegativeFloat = 1e-5
    atol: NonNegativeFloat = 1e-6
    #: Rows that differ only by float32 rounding at a split threshold, tolerated up to this share.
    near_threshold_share: NonNegativeFloat = 0.001
    #: How many differing rows the report names.
    max_rows: PositiveInt = 20


class ExplainSettings(_Strict):
    enabled: StrictBool = True
    scenario: str = "base_case"
    rows: PositiveInt = 300
    repeats: PositiveInt = 3
    shap: StrictBool = False


class Plan(_Strict):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )

    version: Literal[1] = 1
    #: The target column in the scenario files [the artifact's target].
    target: str | None = None
    #: The positive class for binary metrics [the second of the sorted classes, e.g. 1 or True].
    positive_class: StrictInt | StrictBool | str | None = None
    seed: StrictInt = 0
    #: A plan with no expectation of its own fails unless this is true.
    allow_no_expectations: StrictBool = False
    scenarios: dict[str, ScenarioSpec] = Field(min_length=1)
    slices: SliceSettings = Field(default_factory=SliceSettings)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)
    latency: LatencySettings = Field(default_factory=LatencySettings)
    comparison: ComparisonSettings = Field(default_factory=ComparisonSettings)
    parity: ParitySettings = Field(default_factory=ParitySettings)
    explanations: ExplainSettings = Field(default_factory=ExplainSettings)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _empty_specs(cls, value: Any) -> Any:
        """``missing_values:`` with nothing after it in YAML means "with the defaults"."""
        if isinstance(value, dict):
            return {name: ({} if spec is None else spec) for name, spec in value.items()}
        return value

    @field_validator("scenarios")
    @classmethod
    def _kinds(cls, value: dict[str, ScenarioSpec]) -> dict[str, ScenarioSpec]:
        resolved: dict[str, ScenarioSpec] = {}
        for name, spec in value.items():
            kind = spec.kind or infer_kind(name, spec)
            typed = spec if spec.kind else spec.model_copy(update={"kind": kind})
            typed.check_keys(name)
            resolved[name] = typed
        return resolved

    @model_validator(mode="after")
    def _references(self) -> Plan:
        for name, spec in self.scenarios.items():
            if "from_" in spec.model_fields_set or spec.kind in (*DERIVED_KINDS, "stability", "robustness"):
                _check_scenario_name(spec.from_, self.scenarios, f"scenarios.{name}.from")
        for name in self.comparison.scenarios or ():
            _check_scenario_name(name, self.scenarios, "comparison.scenarios")
        return self

    @property
    def user_expectation_count(self) -> int:
        return sum(len(spec.expect) for spec in self.scenarios.values())


def infer_kind(name: str, spec: ScenarioSpec) -> ScenarioKind:
    """A built-in name is its own kind; otherwise what the scenario carries tells."""
    if spec.sql is not None or spec.time_column is not None:
        return "production"
    if spec.file is not None or spec.data is not None:
        return "file"
    if spec.function is not None:
        return "function"
    for kind in BUILT_IN_NAMES:
        if name == kind:
            return kind  # type: ignore[return-value]  # BUILT_IN_NAMES holds ScenarioKind values
    import difflib

    close = difflib.get_close_matches(name, BUILT_IN_NAMES, n=1)
    hint = f" did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"scenarios.{name}: unknown scenario {name!r};{hint} a scenario is a built-in kind "
        f"({', '.join(BUILT_IN_NAMES)}) or has a file, data, function or sql source"
    )


def _check_scenario_name(name: str, scenarios: dict[str, ScenarioSpec], where: str) -> None:
    if name not in scenarios:
        import difflib

        close = difflib.get_close_matches(name, list(scenarios), n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{where}: unknown scenario {name!r};{hint} scenarios: {', '.join(scenarios)}")
