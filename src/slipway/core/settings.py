"""Where slipway keeps its state, read from the environment with embedded defaults.

| variable              | default                          |
|-----------------------|----------------------------------|
| SLIPWAY_HOME          | ./.slipway                       |
| SLIPWAY_REGISTRY_URL  | sqlite:///$SLIPWAY_HOME/registry.db |
| SLIPWAY_STORE_URL     | $SLIPWAY_HOME/artifacts          |
| SLIPWAY_ACTOR         | user@host of the process         |
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@]*):[^@/]*@")


def redact_url(url: str) -> str:
    """Hide the password of a URL (``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``)."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


class Secret(str):
    """A string whose ``repr`` never shows the value, for DSNs and tokens."""

    def __repr__(self) -> str:
        return "Secret('***')"


def _default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Settings:
    home: Path
    registry_url: Secret
    store_url: str
    actor: str = field(default_factory=_default_actor)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | Path | None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(str(overrides.get("home") or env.get("SLIPWAY_HOME") or ".slipway")).expanduser()
        registry = (
            overrides.get("registry_url")
            or env.get("SLIPWAY_REGISTRY_URL")
            or f"sqlite:///{home / 'registry.db'}"
        )
        store = overrides.get("store_url") or env.get("SLIPWAY_STORE_URL") or str(home / "artifacts")
        actor = overrides.get("actor") or env.get("SLIPWAY_ACTOR") or _default_actor()
        return cls(home=home, registry_url=Secret(str(registry)), store_url=str(store), actor=str(actor))

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"
