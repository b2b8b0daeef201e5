"""The Registry service over every metadata backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_artifact import write_tiny_artifact

from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.manifest import MANIFEST_NAME
from slipway.core.records import VersionStatus
from slipway.core.refs import ModelRef
from slipway.registry.service import Registry


def actions(registry: Registry, **options: str) -> list[tuple[str, str]]:
    return [(event.action, event.subject) for event in registry.audit_log(**options)]


def test_register_creates_the_model_and_its_first_version(registry: Registry, register) -> None:
    record, created = register("credit", b"v1")
    assert created
    assert (record.name, record.version, record.status) == ("credit", 1, VersionStatus.REGISTERED)
    assert (record.flavor, record.task, record.created_by) == ("test", "classification", "ana@laptop")
    assert actions(registry) == [("model.created", "credit"), ("version.registered", "credit:1")]
    registered = registry.audit_log()[1]
    assert registered.actor == "ana@laptop"
    assert registered.after == {
        "version": 1,
        "digest": record.digest,
        "flavor": "test",
        "task": "classification",
        "trusted_pickle": False,
    }


def test_versions_are_numbered_in_order(registry: Registry, register) -> None:
    numbers = [register("credit", payload)[0].version for payload in (b"a", b"b", b"c")]
    assert numbers == [1, 2, 3]
    assert [v.version for v in registry.list_versions("credit")] == [1, 2, 3]
    assert registry.get_model("credit").latest_version == 3
    assert actions(registry)[-1] == ("version.registered", "credit:3")


def test_registering_the_same_digest_returns_the_existing_version(registry: Registry, register) -> None:
    first, _ = register("credit", b"same")
    register("credit", b"other")
    events = len(registry.audit_log())
    again, created = register("credit", b"same")
    assert not created
    assert again == first
    assert len(registry.audit_log()) == events
    assert [v.version for v in registry.list_versions("credit")] == [1, 2]


def test_the_same_artifact_under_another_name_is_a_new_model(registry: Registry, register) -> None:
    credit, _ = register("credit", b"same")
    renamed, created = register("credit", b"same", name="credit-eu")
    assert created
    assert (renamed.name, renamed.version, renamed.digest) == ("credit-eu", 1, credit.digest)
    assert [m.name for m in registry.list_models()] == ["credit", "credit-eu"]


def test_register_stores_the_artifact(registry: Registry, register) -> None:
    record, _ = register("credit", b"weights")
    folder = registry.artifact_path(record)
    assert (folder / "model" / "model.bin").read_bytes() == b"weights"
    assert (folder / MANIFEST_NAME).is_file()


def test_trusted_pickle_is_on_the_record(registry: Registry, tmp_path: Path) -> None:
    manifest = write_tiny_artifact(tmp_path / "a", payload=b"p", trusted_pickle=True)
    registry.register(manifest, tmp_path / "a")
    assert registry.audit_log()[-1].after["trusted_pickle"] is True  # type: ignore[index]


def test_resolve_by_version_and_alias(registry: Registry, register) -> None:
    register("credit", b"a")
    register("credit", b"b")
    registry.set_alias("credit", "champion", 1)
    assert registry.resolve("credit:2").version == 2
    assert registry.resolve(ModelRef("credit", version=1)).version == 1
    champion = registry.resolve("credit@champion")
    assert (champion.version, champion.aliases) == (1, ("champion",))


def test_set_alias_records_set_moved_and_nothing_when_unchanged(registry: Registry, register) -> None:
    for payload in (b"a", b"b"):
        register("credit", payload)
    registry.set_alias("credit", "champion", 1)
    moved = registry.set_alias("credit", "champion", 2, reason="beat v1 on AUC")
    registry.set_alias("credit", "champion", 2)
    assert moved.aliases == ("champion",)
    assert registry.resolve("credit:1").aliases == ()
    set_event, moved_event = registry.audit_log()[-2:]
    assert (set_event.action, set_event.subject) == ("alias.set", "credit@champion")
    assert (set_event.before, set_event.after) == (None, {"version": 1})
    assert moved_event.action == "alias.moved"
    assert moved_event.before == {"version": 1}
    assert moved_event.after == {"version": 2, "reason": "beat v1 on AUC"}


def test_remove_alias(registry: Registry, register) -> None:
    register("credit", b"a")
    registry.set_alias("credit", "champion", 1)
    assert registry.remove_alias("credit", "champion", reason="retired") == 1
    event = registry.audit_log()[-1]
    assert (event.action, event.subject) == ("alias.removed", "credit@champion")
    assert (event.before, event.after) == ({"version": 1}, {"reason": "retired"})
    with pytest.raises(NotFoundError, match="has no alias 'champion'"):
        registry.resolve("credit@champion")


def test_tags(registry: Registry, register) -> None:
    register("credit", b"a")
    registry.set_alias("credit", "champion", 1)
    registry.set_tag("credit@champion", "team", "risk")
    tagged = registry.set_tag("credit:1", "team", "fraud")
    registry.set_tag("credit:1", "team", "fraud")
    assert tagged.tags == {"team": "fraud"}
    untagged = registry.remove_tag("credit:1", "team")
    assert untagged.tags == {}
    events = [(e.action, e.subject, e.before, e.after) for e in registry.audit_log()[-3:]]
    assert events == [
        ("tag.set", "credit:1", None, {"key": "team", "value": "risk"}),
        ("tag.set", "credit:1", {"key": "team", "value": "risk"}, {"key": "team", "value": "fraud"}),
        ("tag.removed", "credit:1", {"key": "team", "value": "fraud"}, None),
    ]


def test_set_status(registry: Registry, register) -> None:
    register("credit", b"a")
    validated = registry.set_status("credit:1", "validated", reason="gate passed")
    registry.set_status("credit:1", VersionStatus.VALIDATED)
    assert validated.status is VersionStatus.VALIDATED
    assert registry.resolve("credit:1").status is VersionStatus.VALIDATED
    event = registry.audit_log()[-1]
    assert (event.action, event.subject) == ("status.changed", "credit:1")
    assert (event.before, event.after) == (
        {"status": "registered"},
        {"status": "validated", "reason": "gate passed"},
    )


def test_record_event_for_other_capabilities(registry: Registry, register) -> None:
    register("credit", b"a")
    event = registry.record_event(
        "validation.passed", "credit:1", after={"run": "r-1", "metrics": {"auc": 0.91}}
    )
    assert registry.audit_log()[-1] == event
    assert (event.seq, event.actor) == (3, "ana@laptop")


def test_audit_log_by_model_covers_model_versions_and_aliases(registry: Registry, register) -> None:
    register("credit", b"a")
    register("credit_eu", b"a")
    register("credit2", b"a")
    registry.set_alias("credit", "champion", 1)
    registry.record_event("deployment.created", "endpoint-credit")
    assert actions(registry, model="credit") == [
        ("model.created", "credit"),
        ("version.registered", "credit:1"),
        ("alias.set", "credit@champion"),
    ]
    assert len(registry.audit_log()) == 8


def test_verify_audit_on_an_intact_log(registry: Registry, register) -> None:
    assert registry.verify_audit().ok
    register("credit", b"a")
    registry.set_alias("credit", "champion", 1)
    report = registry.verify_audit()
    assert report.ok
    assert (report.checked, report.head_seq) == (3, 3)


# Bad input: each case names the problem and the way out.


@pytest.fixture
def credit(registry: Registry, register) -> Registry:
    """A registry holding credit:1..3 with credit@champion -> 2."""
    for payload in (b"a", b"b", b"c"):
        register("credit", payload)
    registry.set_alias("credit", "champion", 2)
    return registry


@pytest.mark.parametrize(
    ("ref", "match"),
    [
        ("credt:1", r"unknown model 'credt'; did you mean 'credit'\? `slipway models` lists them"),
        ("zzz:1", r"unknown model 'zzz'; `slipway models` lists them"),
        ("credit:7", r"model 'credit' has no version 7 \(latest is 3\)"),
        ("credit@prod", r"model 'credit' has no alias 'prod'; aliases: champion"),
        ("credit@champoin", r"no alias 'champoin'; did you mean 'champion'\? aliases: champion"),
    ],
    ids=["model-typo", "unknown-model", "version", "alias", "alias-typo"],
)
def test_resolve_names_what_is_missing(credit: Registry, ref: str, match: str) -> None:
    with pytest.raises(NotFoundError, match=match):
        credit.resolve(ref)


def test_unknown_model_in_an_empty_registry(registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="the registry has no models yet"):
        registry.resolve("credit:1")


@pytest.mark.parametrize(
    ("ref", "match"),
    [
        ("a:b:c", r"malformed model reference 'a:b:c'"),
        ("../x", r"malformed model reference '\.\./x'"),
        ("", r"empty model reference"),
        ("credit:", r"version '' is not a number"),
        ("credit:x", r"version 'x' is not a number"),
        ("credit@", r"invalid alias ''"),
        ("../x:1", r"invalid model name '\.\./x'"),
        ("credit:0", r"versions start at 1"),
    ],
    ids=["two-colons", "traversal", "empty", "no-version", "word-version", "no-alias",
         "traversal-name", "version-zero"],
)  # fmt: skip
@pytest.mark.parametrize("metadata_url", ["memory://"], ids=["memory"])  # parsed before any I/O
def test_malformed_references(credit: Registry, ref: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        credit.resolve(ref)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda r: r.set_alias("credit", "prod", 9), NotFoundError, r"has no version 9 \(latest"),
        (lambda r: r.set_alias("credt", "prod", 1), NotFoundError, r"unknown model 'credt'"),
        (lambda r: r.set_alias("credit", "2", 1), InvalidInputError, r"invalid alias '2'"),
        (lambda r: r.set_alias("credit", "prod", 0), InvalidInputError, r"invalid version 0"),
        (lambda r: r.remove_alias("credit", "prod"), NotFoundError, r"has no alias 'prod'"),
        (lambda r: r.set_tag("credit:1", "9x", "v"), InvalidInputError, r"invalid tag key '9x'"),
        (lambda r: r.remove_tag("credit:1", "team"), NotFoundError, r"credit:1 has no tag 'team'"),
        (lambda r: r.set_status("credit:1", "blessed"), InvalidInputError, r"unknown status"),
        (lambda r: r.set_status("credit:9", "validated"), NotFoundError, r"has no version 9"),
        (lambda r: r.list_versions("credt"), NotFoundError, r"did you mean 'credit'"),
        (lambda r: r.audit_log(model="credt"), NotFoundError, r"unknown model 'credt'"),
        (lambda r: r.record_event("Deployed", "x"), InvalidInputError, r"invalid audit action"),
        (lambda r: r.record_event("a.b", ""), InvalidInputError, r"invalid audit subject"),
        (lambda r: r.record_event("a.b", "x", after={"v": {1}}), InvalidInputError, "not plain JSON"),
        (lambda r: r.record_event("a.b", "x", after={"v": float("nan")}), InvalidInputError, "JSON"),
    ],
    ids=["alias-to-missing-version", "alias-unknown-model", "numeric-alias", "version-zero",
         "remove-missing-alias", "bad-tag-key", "remove-missing-tag", "unknown-status",
         "status-missing-version", "versions-unknown-model", "audit-unknown-model",
         "bad-action", "empty-subject", "set-in-event", "nan-in-event"],
)  # fmt: skip
def test_bad_requests(credit: Registry, call, error: type[Exception], match: str) -> None:
    events = len(credit.audit_log())
    with pytest.raises(error, match=match):
        call(credit)
    assert len(credit.audit_log()) == events
