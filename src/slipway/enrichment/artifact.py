"""Lookups in the artifact, lookups at deployment, and the stages built from them.

At build time ``LookupsStep`` checks the declared lookups against the model (every value column
is a feature of a compatible type) and stores them as ``lookups/lookups.json`` with a manifest
section ``lookups``. An artifact never holds a password: an inline URL with credentials is
refused; name an environment variable (``url_env``) instead.

At serve or batch time a deployment file (``--lookups FILE``) may override them: an entry with
the name of a declared lookup is merged onto it (``spec.merge_lookups``), a new name adds one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.profile import DataProfile
from slipway.core.settings import redact_url
from slipway.enrichment.join import JoinLookupStage
from slipway.enrichment.online import LookupStage
from slipway.enrichment.source import LookupSource
from slipway.enrichment.spec import LookupSpec, merge_lookups, parse_lookups

if TYPE_CHECKING:
    from slipway.artifacts.loader import LoadedArtifact
    from slipway.artifacts.steps import BuildContext

LOOKUPS_FILE = "lookups/lookups.json"
SECTION = "lookups"
_COMPATIBLE = {
    "number": {"number", "integer"},
    "integer": {"number", "integer"},
    "string": {"category", "string"},
    "boolean": {"boolean"},
}
Lookups = Sequence[LookupSpec | Mapping[str, Any]] | str | Path


class LookupsStep:
    """Build step storing the artifact's lookups (see the module docstring)."""

    name = SECTION

    def __init__(self, lookups: Lookups) -> None:
        self.specs = read_lookups(lookups)

    def run(self, context: BuildContext) -> dict[str, Any] | None:
        if not self.specs:
            return None
        check_lookups(self.specs, features=context.features, profile=context.profile)
        for spec in self.specs:
            check_no_secret(spec)
        target = context.root / LOOKUPS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        document = {"lookups": [spec.to_dict() for spec in self.specs]}
        target.write_bytes(json.dumps(document, sort_keys=True, indent=2).encode() + b"\n")
        return {
            "file": LOOKUPS_FILE,
            "names": [spec.name for spec in self.specs],
            "provides": [column for spec in self.specs for column in spec.values],
            "requires": list(dict.fromkeys(column for spec in self.specs for column in spec.keys)),
        }


def read_lookups(lookups: Lookups) -> list[LookupSpec]:
    """Full lookup specs from a YAML/JSON file or from Python (specs or mappings)."""
    if isinstance(lookups, str | Path):
        return parse_lookups(read_document(Path(lookups)), source=f"lookups file {Path(lookups).name}")
    return parse_lookups(list(lookups))


def read_document(path: Path) -> Any:
    if not path.is_file():
        raise NotFoundError(f"lookups file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"lookups file {str(path)!r} is not valid JSON: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(
            f"lookups file {str(path)!r} is not valid YAML: {_yaml_problem(exc)}"
        ) from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line message in one line: the problem and where it is."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def check_no_secret(spec: LookupSpec) -> None:
    url = spec.source.url
    if url is not None and redact_url(url) != url:
        raise InvalidInputError(
            f"lookup {spec.name!r}: source.url holds a password, and artifacts are shared and kept "
            "forever; name an environment variable with source.url_env instead"
        )


def check_lookups(
    specs: Sequence[LookupSpec], *, features: Sequence[str], profile: DataProfile | None
) -> None:
    """Raise InvalidInputError unless every lookup fills model features of a compatible type."""
    provided = {column for spec in specs for column in spec.values}
    for spec in specs:
        for column, kind in spec.values.items():
            if column not in features:
                raise InvalidInputError(
                    f"lookup {spec.name!r} provides {column!r}, which is not a feature of the model "
                    f"(features: {', '.join(features)})"
                )
            if profile is not None:
                trained = profile.feature(column).kind
                if trained not in _COMPATIBLE[kind]:
                    raise InvalidInputError(
                        f"lookup {spec.name!r}: {column!r} is declared {kind}, but the model was trained "
                        f"on {trained} values; declare it as {_suggest(trained)}"
                    )
        chained = sorted(provided & set(spec.keys))
        if chained:
            raise InvalidInputError(
                f"lookup {spec.name!r}: its key {chained[0]!r} is filled by another lookup; "
                "chained lookups are not supported: look the value up by the request's own columns"
            )


def _suggest(kind: str) -> str:
    return next(name for name, kinds in _COMPATIBLE.items() if kind in kinds)


def artifact_lookups(artifact: LoadedArtifact) -> list[LookupSpec]:
    """The lookups an artifact declares (an empty list when it declares none)."""
    if not artifact.manifest.has_file(LOOKUPS_FILE):
        return []
    return parse_lookups(artifact.read_json(LOOKUPS_FILE), source=f"{artifact.name} {LOOKUPS_FILE}")


def deployment_lookups(artifact: LoadedArtifact, overrides: Lookups | None = None) -> list[LookupSpec]:
    """The artifact's lookups with a deployment's overrides applied, checked against the model.

    ``overrides`` entries may be partial (``{name, source: {url_env: ...}}``) for lookups the
    artifact declares, and must be complete for new ones.
    """
    base = artifact_lookups(artifact)
    if overrides is None:
        return base
    if isinstance(overrides, str | Path):
        data = read_document(Path(overrides))
        items = data.get("lookups") if isinstance(data, Mapping) and "lookups" in data else data
        if not isinstance(items, list):
            raise InvalidInputError(f"lookups file {Path(overrides).name}: expected a list of lookups")
    else:
        items = [item.to_dict() if isinstance(item, LookupSpec) else item for item in overrides]
    specs = merge_lookups(base, items)
    check_lookups(specs, features=artifact.features, profile=artifact.profile)
    return specs


def placeholders(profile: DataProfile | None, specs: Sequence[LookupSpec]) -> dict[str, Any]:
    """A typical training value per looked-up column, given to rows that are rejected anyway."""
    if profile is None:
        return {}
    values: dict[str, Any] = {}
    for spec in specs:
        for column, kind in spec.values.items():
            feature = profile.feature(column)
            if feature.is_numeric and feature.quantiles:
                median = feature.quantiles.get("0.5")
                values[column] = None if median is None else (round(median) if kind == "integer" else median)
            elif feature.categories and kind == "string":
                values[column] = feature.category_values()[0]
    return values


def lookup_stages(
    artifact: LoadedArtifact,
    specs: Sequence[LookupSpec],
    *,
    open_source: Callable[[LookupSpec], LookupSource],
    join: bool = False,
) -> list[LookupStage | JoinLookupStage]:
    """One stage per lookup, each with its own source; all closed if one cannot open.

    Online (default) stages query per batch with a cache; ``join`` stages (batch engines) fetch
    each chunk's lookup rows and join them. Both apply the same policy, so they agree.
    """
    typical = placeholders(artifact.profile, specs)
    stages: list[LookupStage | JoinLookupStage] = []
    try:
        for spec in specs:
            source = open_source(spec)
            stage_type = JoinLookupStage if join else LookupStage
            stages.append(stage_type(spec, source, placeholders=typical))
    except BaseException:
        for stage in stages:
            stage.close()
        raise
    return stages
