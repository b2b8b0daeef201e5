"""Read a plan from YAML (or a mapping), turn pydantic's complaints into plan errors, and digest it.

Errors name the plan key path and the offending value (``plan.yaml: scenarios.base_case.expect[0]
.threshold: expected a number, got 'high'``), with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from slipway.artifacts.datasets import fingerprint_file, fingerprint_frame
from slipway.core.canonical import sha256_hex, to_canonical_json
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.validation import plan as plan_models
from slipway.validation.plan import Plan

PLAN_FILE = "plan.yaml"


@dataclass(frozen=True)
class PlanSource:
    """A plan and where its relative paths (scenario files, functions) are resolved from."""

    plan: Plan
    base_dir: Path | None
    source: str

    def path(self, relative: str) -> Path:
        path = Path(relative)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path


def load_plan(path: str | Path) -> PlanSource:
    """Read ``plan.yaml`` (or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / PLAN_FILE
    if not path.is_file():
        raise NotFoundError(f"validation plan {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not valid YAML: {exc}") from exc
    return PlanSource(parse_plan(data, source=str(path)), path.parent, str(path))


def parse_plan(data: Any, *, source: str = "plan") -> Plan:
    if isinstance(data, Plan):
        return data
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{source}: a plan is a mapping with 'scenarios', got {type(data).__name__}")
    try:
        return Plan.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInputError(f"{source}: {describe_error(exc)}") from None


def describe_error(exc: ValidationError) -> str:
    """The first problem: key path, what is wrong, the value; "did you mean" for unknown keys."""
    error = exc.errors()[0]
    where = _path(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        close = difflib.get_close_matches(key, _all_keys(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{where}: unknown key {key!r}{hint}"
    if message.startswith(("scenarios.", "comparison.")):
        return message  # a plan-level check already says where
    shown = _shown(error.get("input"))
    value = f" (got {shown})" if shown is not None and error["type"] != "missing" else ""
    return f"{where}: {message}{value}" if where else f"{message}{value}"


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif str(part) in {"str", "int", "float", "bool"} or "[" in str(part) or "function-" in str(part):
            continue  # pydantic's union-member labels are not plan keys
        else:
            text += ("." if text else "") + ("from" if part == "from_" else str(part))
    return text


def _shown(value: Any) -> str | None:
    if isinstance(value, dict | list) or value is None:
        return None
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _all_keys() -> list[str]:
    keys: set[str] = set()
    for item in vars(plan_models).values():
        if isinstance(item, type) and issubclass(item, BaseModel) and item.__module__ == plan_models.__name__:
            for name, field in item.model_fields.items():
                keys.add(field.alias or name)
    return sorted(keys | {"check"})


def plan_digest(source: PlanSource) -> str:
    """sha256 of the plan's canonical JSON plus the content hashes of the data it names."""
    plan = source.plan
    body: dict[str, Any] = {"plan": plan.model_dump(mode="json", by_alias=True), "data": {}}
    for name, spec in plan.scenarios.items():
        if spec.file is not None:
            path = source.path(spec.file)
            body["data"][name] = fingerprint_file(path) if path.is_file() else f"missing:{spec.file}"
        elif spec.data is not None:
            body["data"][name] = fingerprint_frame(spec.data)
        if spec.function is not None:
            function = spec.function
            body["data"][name] = (
                function if isinstance(function, str) else f"{function.__module__}.{function.__qualname__}"
            )
    return sha256_hex(to_canonical_json(body))
