"""The CLI's shared state: one lazily opened ``Slipway`` per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from slipway.api import Slipway


@dataclass
class CliState:
    home: Path | None = None
    registry_url: str | None = None
    store_url: str | None = None
    _slipway: Slipway | None = field(default=None, repr=False)

    @property
    def slipway(self) -> Slipway:
        if self._slipway is None:
            self._slipway = Slipway.from_env(
                home=self.home, registry_url=self.registry_url, store_url=self.store_url
            )
        return self._slipway

    def close(self) -> None:
        if self._slipway is not None:
            self._slipway.close()


def state() -> CliState:
    return click.get_current_context().ensure_object(CliState)


def slipway() -> Slipway:
    return state().slipway
