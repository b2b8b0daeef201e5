"""The lookup specification: what to look up, where, how fast, and what to do without an answer.

In YAML (a list, or a mapping with a ``lookups`` list; the same in JSON)::

    lookups:
      - name: zip_prices
        keys: {zip_code: string}              # request column -> type
        values: {zip_avg_price_m2: number}     # column added to the row -> type
        source:
          kind: sql                            # or: redis
          url_env: ZIP_DB_URL                  # the URL is a secret: read it from the environment
          table: zip_prices                    # or: query: "SELECT ... WHERE zip_code IN :keys"
        timeout_ms: 250
        cache: {size: 10000, ttl_s: 300}
        on_miss: {action: default, values: {zip_avg_price_m2: 11000}}
        on_error: reject                       # default: the same as on_miss

Types are ``number``, ``integer``, ``string`` and ``boolean``. A Redis source reads the hash at
``key`` (a pattern such as ``"zip:{zip_code}"``), one field per value column.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.refs import check_name
from slipway.core.settings import Secret, redact_url

ValueType = Literal["number", "integer", "string", "boolean"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "integer": (int,),
    "string": (str,),
    "boolean": (bool,),
}


def check_identifier(name: str, *, what: str) -> None:
    """SQL table and column names: plain identifiers only (they are quoted, but never guessed)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} {name!r} is not a plain identifier (letters, digits, '_')")


def is_of_type(value: Any, kind: str) -> bool:
    """Whether a plain Python value (from JSON or YAML) fits the declared value type."""
    if kind in ("number", "integer") and isinstance(value, bool):
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _UrlSource(_Model):
    #: The connection URL inline. It is a secret: prefer ``url_env`` in anything shared.
    url: str | None = Field(default=None, repr=False)
    #: The name of the environment variable holding the URL; read first when both are given.
    url_env: str | None = None

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(f"url_env {value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _has_url(self) -> _UrlSource:
        if self.url is None and self.url_env is None:
            raise ValueError("give the database URL: url_env (an environment variable name) or url")
        return self

    def resolve_url(self, environ: Mapping[str, str] | None = None) -> Secret:
        env = os.environ if environ is None else environ
        if self.url_env is not None and env.get(self.url_env):
            return Secret(env[self.url_env])
        if self.url is not None:
            return Secret(self.url)
        raise NotFoundError(
            f"environment variable {self.url_env} is not set: set it to the lookup database URL "
            "(or give source.url in a deployment lookups file)"
        )

    def where(self, environ: Mapping[str, str] | None = None) -> str:
        """Where the source is, for messages: the redacted URL, or the variable naming it."""
        try:
            return redact_url(self.resolve_url(environ))
        except NotFoundError:
            return f"${self.url_env}"


class SqlSource(_UrlSource):
    kind: Literal["sql"] = "sql"
    #: ``table`` or ``schema.table``; the key and value columns are selected from it.
    table: str | None = None
    #: Or a query returning the key and value columns by name, with an expanding ``:keys``
    #: parameter: ``... WHERE zip_code IN :keys`` (``WHERE (a, b) IN :keys`` for two keys).
    query: str | None = None
    #: Database column names where they differ from the spec's key/value names.
    columns: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _table_or_query(self) -> SqlSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.table is not None:
            for part in self.table.split("."):
                check_identifier(part, what="table")
            if self.table.count(".") > 1:
                raise ValueError(f"table {self.table!r}: use TABLE or SCHEMA.TABLE")
        if self.query is not None and ":keys" not in self.query:
            raise ValueError("the query must select by the key list: add 'WHERE key IN :keys'")
        for name in self.columns.values():
            check_identifier(name, what="column")
        return self

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


class RedisSource(_UrlSource):
    kind: Literal["redis"] = "redis"
    #: Key of the hash for one row, with the key columns in braces: ``"zip:{zip_code}"``.
    key: str
    #: Hash field names where they differ from the value column names.
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("key")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"key pattern {value!r}: {exc}") from None
        if not names or not all(name.isidentifier() for name in names):
            raise ValueError(
                f"key pattern {value!r} must name key columns in braces, e.g. 'zip:{{zip_code}}'"
            )
        return value

    def key_columns(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.key) if name]

    def field(self, name: str) -> str:
        return self.fields.get(name, name)


class CacheSpec(_Model):
    #: Keys kept; 0 turns the cache off.
    size: int = Field(default=10_000, ge=0)
    ttl_s: float = Field(default=300.0, gt=0)


class Policy(_Model):
    """What a row gets when its key has no value (miss) or the source failed (error)."""

    action: Literal["default", "reject"]
    #: For ``default``: the value of every value column (the row is scored and flagged).
    values: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"action": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _values(self) -> Policy:
        if self.action == "reject" and self.values:
            raise ValueError("'reject' takes no values; use action 'default' to fill values")
        return self


class LookupSpec(_Model):
    name: str
    keys: dict[str, ValueType]
    values: dict[str, ValueType]
    source: Annotated[SqlSource | RedisSource, Field(discriminator="kind")]
    timeout_ms: int = Field(default=250, gt=0, le=60_000)
    cache: CacheSpec = Field(default_factory=CacheSpec)
    on_miss: Policy = Field(default_factory=lambda: Policy(action="reject"))
    #: Defaults to ``on_miss``.
    on_error: Policy | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        check_name(value, kind="lookup name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LookupSpec:
        if not self.keys or not self.values:
            raise ValueError("a lookup needs at least one key column and one value column")
        both = set(self.keys) & set(self.values)
        if both:
            raise ValueError(f"column {sorted(both)[0]!r} is both a key and a value")
        for column in (*self.keys, *self.values):
            if isinstance(self.source, SqlSource) and self.source.table is not None:
                check_identifier(self.source.column(column), what="column")
        if isinstance(self.source, RedisSource) and set(self.source.key_columns()) != set(self.keys):
            raise ValueError(
                f"key pattern {self.source.key!r} must use exactly the key columns "
                f"{sorted(self.keys)} (found {sorted(self.source.key_columns())})"
            )
        for label, policy in (("on_miss", self.on_miss), ("on_error", self.on_error)):
            if policy is not None:
                self._check_policy(label, policy)
        return self

    def _check_policy(self, label: str, policy: Policy) -> None:
        if policy.action != "default":
            return
        missing = [name for name in self.values if name not in policy.values]
        if missing:
            raise ValueError(f"{label}: give a default for every value column (missing {missing[0]!r})")
        for name, value in policy.values.items():
            if name not in self.values:
                raise ValueError(f"{label}: {name!r} is not a value column of this lookup")
            if not is_of_type(value, self.values[name]):
                raise ValueError(f"{label}: default {value!r} for {name!r} is not a {self.values[name]}")

    @property
    def error_policy(self) -> Policy:
        return self.on_error or self.on_miss

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def describe(self, environ: Mapping[str, str] | None = None) -> str:
        if isinstance(self.source, SqlSource):
            target = f"table {self.source.table}" if self.source.table else "query"
        else:
            target = f"hash {self.source.key}"
        return f"{self.name} ({self.source.kind} {target} at {self.source.where(environ)})"


def parse_lookups(data: Any, *, source: str = "lookups") -> list[LookupSpec]:
    """Specs from plain data: a list of lookups, or a mapping holding one under ``lookups``."""
    items = data.get("lookups") if isinstance(data, Mapping) and "lookups" in data else data
    if isinstance(items, Mapping | LookupSpec):
        items = [items]
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise InvalidInputError(f"{source}: expected a list of lookups, got {type(items).__name__}")
    specs = [_parse_one(item, index, source) for index, item in enumerate(items)]
    names = [spec.name for spec in specs]
    for name in names:
        if names.count(name) > 1:
            raise InvalidInputError(f"{source}: two lookups are named {name!r}")
    provided = [column for spec in specs for column in spec.values]
    for column in provided:
        if provided.count(column) > 1:
            raise InvalidInputError(f"{source}: two lookups provide the column {column!r}")
    return specs


def _parse_one(item: Any, index: int, source: str) -> LookupSpec:
    if isinstance(item, LookupSpec):
        return item
    try:
        return LookupSpec.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
        name = item.get("name", index) if isinstance(item, Mapping) else index
        message = str(first["msg"]).removeprefix("Value error, ")
        shown = _shown_input(first)
        raise InvalidInputError(f"{source}: lookup {name!r}: {where or 'spec'}: {message}{shown}") from None


def _shown_input(error: Any) -> str:
    """The offending value for a message: plain values only, never a URL or a whole block
    (a ``source`` block holds the connection URL, a secret)."""
    value = error.get("input")
    if error["type"] in {"missing", "value_error"} or any("url" in str(part) for part in error["loc"]):
        return ""
    if (
        value is None
        or isinstance(value, bool | int | float)
        or (isinstance(value, str) and "://" not in value)
    ):
        return f" (got {value!r})"
    return ""


def merge_lookups(base: Sequence[LookupSpec], overrides: Sequence[Mapping[str, Any]]) -> list[LookupSpec]:
    """Apply a deployment's lookups over the artifact's: same name -> merged; a new name -> added.

    Top-level fields of an override replace the artifact's (``timeout_ms``, ``cache``,
    ``on_miss``...). ``source`` is merged field by field when its kind stays the same, and the
    connection (``url``/``url_env``) is replaced as a whole, so a deployment file can say only
    ``{name: zip_prices, source: {url_env: PROD_ZIP_URL}}``.
    """
    merged = {spec.name: spec.to_dict() for spec in base}
    for override in overrides:
        name = override.get("name") if isinstance(override, Mapping) else None
        if not isinstance(name, str):
            raise InvalidInputError("deployment lookups: every lookup needs a name")
        merged[name] = _merge_one(merged.get(name, {}), override)
    return parse_lookups(list(merged.values()), source="deployment lookups")


def _merge_one(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    result = {**base, **{key: value for key, value in override.items() if key != "source"}}
    if "source" in override:
        new, old = override["source"], base.get("source", {})
        if not isinstance(new, Mapping) or new.get("kind", old.get("kind")) != old.get("kind"):
            result["source"] = new
        else:
            kept = dict(old)
            if "url" in new or "url_env" in new:
                kept.pop("url", None)
                kept.pop("url_env", None)
            result["source"] = {**kept, **new}
    return result
