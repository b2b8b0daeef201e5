"""Messages for things the registry cannot find: what is missing, and what the user can do next."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

_LIST_MODELS = "`slipway models` lists them"


def missing_model(name: str, known: Iterable[str]) -> str:
    names = list(known)
    if not names:
        return f"unknown model {name!r}: the registry has no models yet; register one first"
    return f"unknown model {name!r};{_did_you_mean(name, names)} {_LIST_MODELS}"


def missing_version(name: str, version: int | None, latest: int | None) -> str:
    known = f"latest is {latest}" if latest is not None else "it has no versions yet"
    return f"model {name!r} has no version {version} ({known})"


def missing_alias(name: str, alias: str, aliases: Mapping[str, int]) -> str:
    if not aliases:
        return f"model {name!r} has no alias {alias!r}; it has no aliases yet"
    hint = _did_you_mean(alias, aliases)
    return f"model {name!r} has no alias {alias!r};{hint} aliases: {', '.join(sorted(aliases))}"


def missing_tag(subject: str, key: str, tags: Mapping[str, str]) -> str:
    if not tags:
        return f"{subject} has no tag {key!r}; it has no tags"
    hint = _did_you_mean(key, tags)
    return f"{subject} has no tag {key!r};{hint} tags: {', '.join(sorted(tags))}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` did you mean 'x'?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" did you mean {close[0]!r}?" if close else ""
