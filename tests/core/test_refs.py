import pytest
from hypothesis import given
from hypothesis import strategies as st

from slipway.core.errors import InvalidInputError
from slipway.core.refs import ModelRef, check_name, parse_ref

names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_-]{0,20}[A-Za-z0-9])?", fullmatch=True)
aliases = st.from_regex(r"[A-Za-z]([A-Za-z0-9_-]{0,20}[A-Za-z0-9])?", fullmatch=True)


@given(name=names, version=st.integers(min_value=1, max_value=10**9))
def test_version_reference_round_trips(name, version):
    ref = parse_ref(f"{name}:{version}")
    assert ref == ModelRef(name, version=version)
    assert parse_ref(str(ref)) == ref


@given(name=names, alias=aliases)
def test_alias_reference_round_trips(name, alias):
    ref = parse_ref(f"{name}@{alias}")
    assert ref == ModelRef(name, alias=alias)
    assert parse_ref(str(ref)) == ref


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a:b:c", "malformed model reference 'a:b:c'"),
        ("../x", "malformed model reference '../x'"),
        ("../x:1", "invalid model name '../x'"),
        ("", "empty model reference"),
        ("   ", "empty model reference"),
        ("credit", "malformed model reference 'credit'"),
        ("credit:x", "version 'x' is not a number"),
        ("credit:0", "versions start at 1"),
        ("credit@", "invalid alias ''"),
        ("credit@1st", "invalid alias '1st'"),
        ("cre dit:1", "invalid model name 'cre dit'"),
        ("credit@champ@x", "malformed model reference"),
        ("a\\b:1", "invalid model name"),
    ],
    ids=[
        "two-colons",
        "traversal",
        "traversal-name",
        "empty",
        "blank",
        "no-version",
        "version-text",
        "version-zero",
        "empty-alias",
        "alias-digit",
        "space",
        "two-ats",
        "backslash",
    ],
)
def test_malformed_references_are_refused_with_the_text(text, match):
    with pytest.raises(InvalidInputError, match=match):
        parse_ref(text)


@pytest.mark.parametrize("name", ["..", "a..b", "-a", "a-", "a/b", "a" * 101, ".hidden"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(InvalidInputError, match="invalid model name"):
        check_name(name)
