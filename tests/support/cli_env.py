"""The environment of a CLI test: a fresh slipway home under ``tmp_path``, no inherited registry or
store URL, a fixed audit actor and a terminal wide enough for Rich's tables."""

from __future__ import annotations

from pathlib import Path

import pytest


def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, columns: int = 200) -> Path:
    monkeypatch.setenv("SLIPWAY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SLIPWAY_REGISTRY_URL", raising=False)
    monkeypatch.delenv("SLIPWAY_STORE_URL", raising=False)
    monkeypatch.setenv("SLIPWAY_ACTOR", "cli-test")
    monkeypatch.setenv("COLUMNS", str(columns))
    return tmp_path
