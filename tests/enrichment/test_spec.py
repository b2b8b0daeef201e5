"""Lookup specs: parsing from Python and files, clear errors, secrets, deployment overrides."""

from __future__ import annotations

import json

import pytest

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.enrichment.artifact import read_lookups
from slipway.enrichment.spec import LookupSpec, merge_lookups, parse_lookups
from slipway.examples import apartments


def base(**changes):
    data = apartments.lookup()
    data.update(changes)
    return data


def test_the_apartments_lookup_parses_with_its_policies():
    (spec,) = parse_lookups([apartments.lookup()])
    assert spec.keys == {"zip_code": "string"} and spec.values == {"zip_avg_price_m2": "number"}
    assert spec.on_miss.action == "reject"
    assert spec.error_policy.action == "default" and spec.error_policy.values["zip_avg_price_m2"] > 7000
    assert spec.timeout_s == 0.25 and spec.cache.size == 1000


def test_on_error_defaults_to_on_miss():
    spec = LookupSpec.model_validate(
        base(on_error=None, on_miss={"action": "default", "values": {"zip_avg_price_m2": 1.0}})
    )
    assert spec.error_policy == spec.on_miss


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"name": "../x"}, "invalid lookup name"),
        ({"keys": {}}, "at least one key column"),
        ({"values": {"zip_code": "number"}}, "both a key and a value"),
        ({"keys": {"zip_code": "text"}}, r"keys\.zip_code: Input should be 'number'"),
        ({"timeout_ms": 0}, r"timeout_ms: Input should be greater than 0"),
        ({"cache": {"size": -1}}, r"cache\.size"),
        ({"on_miss": "ignore"}, r"on_miss\.action"),
        ({"on_miss": {"action": "default", "values": {}}}, "give a default for every value column"),
        ({"on_miss": {"action": "default", "values": {"zip_avg_price_m2": "high"}}}, "is not a number"),
        ({"on_miss": {"action": "reject", "values": {"zip_avg_price_m2": 1.0}}}, "'reject' takes no values"),
        ({"source": {"kind": "sql", "url_env": "X"}}, "exactly one of table or query"),
        ({"source": {"kind": "sql", "url_env": "X", "table": "zip; drop table x"}}, "not a plain identifier"),
        ({"source": {"kind": "sql", "url_env": "X", "query": "SELECT 1"}}, "WHERE key IN :keys"),
        ({"source": {"kind": "sql", "table": "t"}}, "give the database URL"),
        (
            {"source": {"kind": "sql", "url_env": "not a name", "table": "t"}},
            "not an environment variable name",
        ),
        ({"source": {"kind": "redis", "url_env": "X", "key": "zip"}}, "must name key columns in braces"),
        ({"source": {"kind": "redis", "url_env": "X", "key": "zip:{postcode}"}}, "exactly the key columns"),
        ({"source": {"kind": "mongo", "url_env": "X"}}, "source"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
    ids=[
        "unsafe-name",
        "no-keys",
        "key-is-value",
        "unknown-type",
        "zero-timeout",
        "negative-cache",
        "unknown-policy",
        "default-missing",
        "default-wrong-type",
        "reject-with-values",
        "no-table-or-query",
        "table-injection",
        "query-without-keys",
        "no-url",
        "bad-env-name",
        "redis-pattern-without-key",
        "redis-pattern-other-column",
        "unknown-source-kind",
        "unknown-field",
    ],
)
def test_bad_specs_are_refused_naming_the_lookup_and_the_field(changes, match):
    with pytest.raises(InvalidInputError, match=match) as raised:
        parse_lookups([base(**changes)])
    assert "lookup" in str(raised.value)


def test_two_lookups_cannot_share_a_name_or_a_value_column():
    with pytest.raises(InvalidInputError, match="two lookups are named 'zip_prices'"):
        parse_lookups([base(), base()])
    with pytest.raises(InvalidInputError, match="provide the column 'zip_avg_price_m2'"):
        parse_lookups([base(), base(name="other")])


def test_the_url_comes_from_the_environment_first_and_is_never_shown():
    spec = LookupSpec.model_validate(
        base(
            source={"kind": "sql", "table": "zip_prices", "url_env": "ZIP_URL", "url": "sqlite:///inline.db"}
        )
    )
    secret = "postgresql://app:hunter2@db/prices"
    assert spec.source.resolve_url({"ZIP_URL": secret}) == secret
    assert "hunter2" not in repr(spec.source.resolve_url({"ZIP_URL": secret}))
    assert spec.source.resolve_url({}) == "sqlite:///inline.db"
    assert "hunter2" not in spec.describe({"ZIP_URL": secret}) and "app:***@db" in spec.describe(
        {"ZIP_URL": secret}
    )
    assert "hunter2" not in repr(
        LookupSpec.model_validate(base(source={"kind": "sql", "table": "t", "url": secret}))
    )


@pytest.mark.parametrize(
    "source",
    [
        {"kind": "mongo", "url": "mongodb://app:hunter2@db/x"},
        {"kind": "sql", "url": "postgresql://app:hunter2@db/x", "table": "t", "surprise": 1},
        {"kind": "sql", "url": ["postgresql://app:hunter2@db/x"], "table": "t"},
    ],
    ids=["unknown-kind", "extra-field", "url-not-a-string"],
)
def test_errors_about_a_source_never_show_its_url(source):
    with pytest.raises(InvalidInputError, match="lookup 'zip_prices'") as raised:
        parse_lookups([base(source=source)])
    assert "hunter2" not in str(raised.value)


def test_an_unset_url_variable_says_which_one_to_set():
    (spec,) = parse_lookups([apartments.lookup()])
    with pytest.raises(NotFoundError, match="APARTMENTS_ZIP_DB_URL is not set"):
        spec.source.resolve_url({})
    assert spec.describe({}) == "zip_prices (sql table zip_prices at $APARTMENTS_ZIP_DB_URL)"


def test_lookups_files_in_yaml_and_json(tmp_path):
    yaml_file = tmp_path / "lookups.yaml"
    yaml_file.write_text(
        "lookups:\n"
        "  - name: zip_prices\n"
        "    keys: {zip_code: string}\n"
        "    values: {zip_avg_price_m2: number}\n"
        "    source: {kind: redis, url_env: ZIP_REDIS, key: 'zip:{zip_code}'}\n"
        "    on_miss: {action: default, values: {zip_avg_price_m2: 11000.0}}\n"
    )
    (spec,) = read_lookups(yaml_file)
    assert spec.source.kind == "redis" and spec.on_miss.values == {"zip_avg_price_m2": 11000.0}
    json_file = tmp_path / "lookups.json"
    json_file.write_text(json.dumps([apartments.lookup()]))
    assert read_lookups(json_file)[0].source.kind == "sql"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("lookups: [\n", "is not valid YAML"),
        ("lookups: 3\n", "expected a list of lookups, got int"),
        ("- name: x\n", r"lookup 'x': keys: Field required"),
    ],
    ids=["malformed", "not-a-list", "incomplete"],
)
def test_bad_lookups_files(tmp_path, content, match):
    path = tmp_path / "lookups.yaml"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=match):
        read_lookups(path)


def test_a_missing_lookups_file_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="does not exist"):
        read_lookups(tmp_path / "nope.yaml")


def test_a_deployment_overrides_only_what_it_names():
    artifact = parse_lookups([apartments.lookup()])
    (merged,) = merge_lookups(
        artifact, [{"name": "zip_prices", "source": {"url": "sqlite:///prod.db"}, "timeout_ms": 50}]
    )
    assert merged.source.url == "sqlite:///prod.db" and merged.source.url_env is None, (
        "the connection is replaced whole"
    )
    assert merged.source.table == "zip_prices" and merged.on_miss.action == "reject", "the rest is kept"
    assert merged.timeout_ms == 50
    (replaced,) = merge_lookups(
        artifact,
        [{"name": "zip_prices", "source": {"kind": "redis", "url_env": "R", "key": "zip:{zip_code}"}}],
    )
    assert replaced.source.kind == "redis", "a source of another kind replaces the old one"
    added = merge_lookups(
        artifact, [{**apartments.lookup(), "name": "other", "values": {"x": "number"}, "on_error": None}]
    )
    assert [spec.name for spec in added] == ["zip_prices", "other"]


def test_a_partial_override_of_an_unknown_lookup_is_refused():
    with pytest.raises(InvalidInputError, match="lookup 'typo': keys: Field required"):
        merge_lookups(parse_lookups([apartments.lookup()]), [{"name": "typo", "timeout_ms": 10}])
