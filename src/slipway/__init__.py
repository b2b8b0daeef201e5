"""slipway: take trained models to production safely, and keep them safe there.

Importing this package is cheap: the registry database, the server stack and the batch engines
are imported only when a function that needs them is called.

    import slipway
    sw = slipway.connect()
    built = sw.build(model, name="credit", train=frame, target="default", exclude=["gender"])
    version = sw.register(built)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway._version import __version__

__all__ = ["Slipway", "__version__", "build", "connect", "load"]

if TYPE_CHECKING:
    from slipway.api import Slipway, connect


def __getattr__(name: str) -> Any:
    if name in ("Slipway", "connect"):
        from slipway import api

        return getattr(api, name)
    raise AttributeError(f"module 'slipway' has no attribute {name!r}")


def build(model: Any, **options: Any) -> Any:
    """Package ``model`` into an artifact; see ``Slipway.build`` for the options."""
    from slipway.api import connect

    return connect().build(model, **options)


def load(source: Any, **options: Any) -> Any:
    """Load an artifact path or a registered ``name:version`` / ``name@alias``; see ``Slipway.load``."""
    from slipway.api import connect

    with connect() as sw:
        return sw.load(source, **options)
