import pytest
from hypothesis import given
from hypothesis import strategies as st

from slipway.core.errors import IntegrityError
from slipway.core.manifest import FileEntry, Manifest, ModelSection, check_relative_path, parse_manifest

paths = st.from_regex(r"[a-z]{1,8}(/[a-z0-9_.-]{1,8}){0,3}", fullmatch=True).filter(
    lambda p: not any(part in {".", ".."} for part in p.split("/"))
)


@given(
    files=st.dictionaries(
        paths, st.tuples(st.from_regex(r"[0-9a-f]{64}", fullmatch=True), st.integers(0, 10**9)), max_size=8
    ),
    features=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=5, unique=True),
)
def test_manifest_round_trips_through_its_canonical_bytes(files, features):
    manifest = Manifest(
        name="m",
        model=ModelSection(
            flavor="sklearn", path="model/model.skops", task="regression", features=tuple(features)
        ),
        files=tuple(FileEntry(path=p, sha256=h, size=s) for p, (h, s) in sorted(files.items())),
        slipway_version="0.1.0",
    )
    data = manifest.to_bytes()
    again = parse_manifest(data)
    assert again == manifest
    assert again.to_bytes() == data
    assert again.digest == manifest.digest


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../b", "a\\b", "a//b", "./a", "a/./b", "", "a;b", "%2e%2e/x"]
)
def test_unsafe_paths_in_a_manifest_are_refused(path):
    with pytest.raises(IntegrityError, match="unsafe file path"):
        check_relative_path(path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"not json", "not a valid slipway manifest"),
        (b"{}", "not a valid slipway manifest: format|name"),
        (b'{"format": "other/9"}', "not a valid slipway manifest"),
    ],
    ids=["garbage", "empty-object", "wrong-format"],
)
def test_malformed_manifests_are_integrity_errors(data, match):
    with pytest.raises(IntegrityError, match=match):
        parse_manifest(data)
