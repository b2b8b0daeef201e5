"""Model references: ``name:version`` and ``name@alias``.

Names end up in file paths, URLs and SQL, so they are validated once, here, against a strict
pattern instead of being escaped in each place (path traversal in model names is a recurring
CVE class in model registries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slipway.core.errors import InvalidInputError

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9])?")
_ALIAS = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
_REF_HELP = "use NAME:VERSION (e.g. credit:3) or NAME@ALIAS (e.g. credit@champion)"


def check_name(name: str, *, kind: str = "model name") -> None:
    """Raise InvalidInputError unless ``name`` is a safe model or deployment name."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidInputError(
            f"invalid {kind} {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )


def check_alias(alias: str) -> None:
    """Raise InvalidInputError unless ``alias`` is a valid alias (it must not look like a number)."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidInputError(
            f"invalid alias {alias!r}: use 1-64 letters, digits, '_' or '-', starting with a letter"
        )


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A reference to one model version, either fixed (``version``) or moving (``alias``)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name)
        if (self.version is None) == (self.alias is None):
            raise InvalidInputError(f"model reference needs exactly one of version or alias; {_REF_HELP}")
        if self.version is not None and (isinstance(self.version, bool) or self.version < 1):
            raise InvalidInputError(f"invalid version {self.version!r}: versions start at 1")
        if self.alias is not None:
            check_alias(self.alias)

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.alias is None else f"{self.name}@{self.alias}"


def parse_ref(text: str) -> ModelRef:
    """Parse ``name:version`` or ``name@alias``; raise InvalidInputError naming the text otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"empty model reference; {_REF_HELP}")
    text = text.strip()
    if text.count(":") + text.count("@") != 1:
        raise InvalidInputError(f"malformed model reference {text!r}; {_REF_HELP}")
    if "@" in text:
        name, alias = text.split("@")
        check_name(name)
        return ModelRef(name, alias=alias)
    name, version = text.split(":")
    check_name(name)
    if not version.isdigit():
        raise InvalidInputError(
            f"malformed model reference {text!r}: version {version!r} is not a number; {_REF_HELP}"
        )
    return ModelRef(name, version=int(version))
