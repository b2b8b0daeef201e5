"""Guard configuration: what the user asks for, checked against the model AT BUILD TIME.

    domain:    {policy: flag, margin: 0.05, features: [...], intervals: {surface: [10, 200]},
                allow_missing: {age: false}}
    anomaly:   {policy: flag, false_alarm_rate: 0.01, max_components: 4, features: [...]}
    conformal: {policy: flag, coverage: 0.9, max_width: null}
    output:    {policy: flag, bounds: [0, 2e6], margin: 0.05, min_certainty: 0.6}
    fallback:  {rule: 0.0}  or  {model: <estimator or .skops path>}

Each section may be ``false`` (off) or omitted (the default). Without any configuration an
artifact gets the domain, anomaly and output guards with policy ``flag``, and conformal
prediction when the build has validation data to calibrate on (see ``DEFAULT_CONFORMAL_ROWS``).
Policies: ``flag`` (score and annotate), ``reject`` (no prediction, the reason is returned),
``clip`` (domain: clip numeric inputs into their interval; output: clip a regression output into
its bounds) and ``fallback`` (the fallback model or rule answers instead).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.profile import DataProfile

Policy = Literal["flag", "reject", "clip", "fallback"]
GUARDS = ("domain", "anomaly", "conformal", "output")
#: Guards for which clipping means something (a value to bring into an interval).
CLIPPABLE = ("domain", "output")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    policy: Policy = "flag"


class DomainConfig(_Section):
    #: Share of each numeric feature's training range added below its minimum and above its maximum.
    margin: float = Field(default=0.05, ge=0)
    features: tuple[str, ...] | None = None
    intervals: dict[str, tuple[float, float]] = Field(default_factory=dict)
    allow_missing: dict[str, bool] = Field(default_factory=dict)


class AnomalyConfig(_Section):
    #: Share of normal (held-out) rows the detector may flag: sets its threshold.
    false_alarm_rate: float = Field(default=0.01, gt=0, lt=1)
    max_components: int = Field(default=4, ge=1, le=20)
    features: tuple[str, ...] | None = None


class ConformalConfig(_Section):
    coverage: float = 0.9
    #: Regression: flag rows whose interval is wider than this (None: intervals only).
    max_width: float | None = Field(default=None, gt=0)

    @field_validator("coverage")
    @classmethod
    def _coverage_in_open_unit_interval(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError(f"coverage must be strictly between 0 and 1, got {value}")
        return value


class OutputConfig(_Section):
    bounds: tuple[float, float] | None = None
    margin: float = Field(default=0.05, ge=0)
    #: Classification: flag rows whose highest class probability is below this.
    min_certainty: float | None = Field(default=None, gt=0, le=1)


class FallbackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    rule: float | int | str | bool | None = None
    model: Any = None


class GuardsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: DomainConfig | None = Field(default_factory=lambda: DomainConfig.model_validate({}))
    anomaly: AnomalyConfig | None = Field(default_factory=lambda: AnomalyConfig.model_validate({}))
    #: None: on when there is validation data to calibrate on ("auto"); set it to ask for it.
    conformal: ConformalConfig | None = None
    conformal_auto: bool = True
    output: OutputConfig | None = Field(default_factory=lambda: OutputConfig.model_validate({}))
    fallback: FallbackConfig | None = None

    def policies(self) -> dict[str, Policy]:
        sections = {name: getattr(self, name) for name in GUARDS}
        return {name: section.policy for name, section in sections.items() if section is not None}


GuardsInput = Mapping[str, Any] | GuardsConfig | str | Path | bool | None


def parse_guards(value: GuardsInput) -> GuardsConfig | None:
    """Guards from Python (a mapping), a YAML/JSON file, True (the defaults) or False (none)."""
    if value is False:
        return None
    if value is None or value is True:
        return GuardsConfig()
    if isinstance(value, GuardsConfig):
        return value
    if isinstance(value, str | Path):
        return parse_guards(_read_file(Path(value)))
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"guards: expected a mapping, a file or True/False, got {type(value).__name__}"
        )
    unknown = sorted(set(value) - {*GUARDS, "fallback"})
    if unknown:
        raise InvalidInputError(
            f"guards: unknown section {unknown[0]!r}; sections: {', '.join((*GUARDS, 'fallback'))}"
        )
    data: dict[str, Any] = {}
    for name in (*GUARDS, "fallback"):
        if name not in value:
            continue
        section = value[name]
        if section is False or section is None:
            data[name] = None
            if name == "conformal":
                data["conformal_auto"] = False
        else:
            data[name] = {} if section is True else section
            if name == "conformal":
                data["conformal_auto"] = False
    try:
        return GuardsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] != "value_error":  # our own checks name the value already
            message += f" (got {repr(first.get('input'))[:80]})"
        raise InvalidInputError(f"guards: {where}: {message}") from exc


def _read_file(path: Path) -> Any:
    if not path.is_file():
        raise NotFoundError(f"guards file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"guards file {str(path)!r} is not valid YAML/JSON: {exc}") from exc
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise InvalidInputError(f"guards file {str(path)!r} must hold a mapping of guard sections")
    fallback = document.get("fallback")
    if isinstance(fallback, Mapping) and isinstance(fallback.get("model"), str):
        # a fallback model file named in the YAML is relative to the YAML file
        model_path = Path(fallback["model"])
        document = {**document, "fallback": {**fallback, "model": path.parent / model_path}}
    return document


def check_guards(
    config: GuardsConfig,
    *,
    features: Sequence[str],
    profile: DataProfile | None,
    task: str,
    classes: Sequence[Any] | None,
) -> None:
    """Raise InvalidInputError for a configuration that cannot work with this model."""
    if profile is None:
        raise InvalidInputError(
            "guards are fitted on the training data: pass train=... (CLI: --train) or guards=False"
        )
    numeric = [f.name for f in profile.features if f.is_numeric]
    if config.domain is not None:
        _check_names("domain.features", config.domain.features or (), features)
        _check_names("domain.intervals", config.domain.intervals, numeric, what="numeric feature")
        _check_names("domain.allow_missing", config.domain.allow_missing, features)
        for name, (low, high) in config.domain.intervals.items():
            if not low <= high:
                raise InvalidInputError(f"guards: domain.intervals.{name}: low {low} is above high {high}")
    if config.anomaly is not None:
        _check_names("anomaly.features", config.anomaly.features or (), numeric, what="numeric feature")
        if not (config.anomaly.features or numeric):
            raise InvalidInputError(
                "guards: anomaly needs numeric features and the model has none; set anomaly: false"
            )
    _check_policies(config)
    _check_output(config.output, task)
    _check_fallback(config, task=task, classes=classes)


def _check_names(where: str, names: Any, allowed: Sequence[str], *, what: str = "feature") -> None:
    for name in names:
        if name not in allowed:
            raise InvalidInputError(
                f"guards: {where} names {name!r}, which is not a {what} of the model "
                f"({what}s: {', '.join(allowed) or 'none'})"
            )


def _check_policies(config: GuardsConfig) -> None:
    for name, policy in config.policies().items():
        if policy == "clip" and name not in CLIPPABLE:
            raise InvalidInputError(
                f"guards: {name}.policy 'clip' has nothing to clip; use flag, reject or fallback "
                f"(clip applies to {' and '.join(CLIPPABLE)})"
            )
        if policy == "fallback" and config.fallback is None:
            raise InvalidInputError(
                f"guards: {name}.policy is 'fallback' but no fallback is configured; "
                "add fallback: {rule: VALUE} or fallback: {model: ...}"
            )


def _check_output(output: OutputConfig | None, task: str) -> None:
    if output is None:
        return
    if output.bounds is not None:
        if task != "regression":
            raise InvalidInputError("guards: output.bounds apply to regression models; use min_certainty")
        if not output.bounds[0] <= output.bounds[1]:
            raise InvalidInputError(f"guards: output.bounds {list(output.bounds)}: low is above high")
    if output.min_certainty is not None and task != "classification":
        raise InvalidInputError("guards: output.min_certainty applies to classifiers; use bounds")
    if output.policy == "clip" and task != "regression":
        raise InvalidInputError("guards: output.policy 'clip' clips regression outputs; use flag or reject")


def _check_fallback(config: GuardsConfig, *, task: str, classes: Sequence[Any] | None) -> None:
    fallback = config.fallback
    if fallback is None:
        return
    if (fallback.rule is None) == (fallback.model is None):
        raise InvalidInputError("guards: fallback needs exactly one of rule (a fixed value) or model")
    rule = fallback.rule
    if rule is None:
        return
    if task == "regression" and (isinstance(rule, bool) or not isinstance(rule, int | float)):
        raise InvalidInputError(
            f"guards: fallback.rule must be a number for a regression model, got {rule!r} "
            f"({type(rule).__name__})"
        )
    if task == "classification" and classes is not None and rule not in list(classes):
        raise InvalidInputError(
            f"guards: fallback.rule {rule!r} is not a class of the model; classes: "
            f"{', '.join(map(repr, classes))}"
        )
