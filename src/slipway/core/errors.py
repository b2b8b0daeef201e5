"""One family of errors for all of slipway.

Each class also inherits the builtin a caller would naturally catch, carries its message in a
form a user can act on (what failed, the offending value, what to do next), and is mapped to an
exit code or HTTP status only at the edges (``slipway.cli`` and the ASGI app), never here.
"""

from __future__ import annotations


class SlipwayError(Exception):
    """Root of every error slipway raises on purpose."""


class InvalidInputError(SlipwayError, ValueError):
    """Something a user supplied (argument, file, config, request body) is not acceptable."""


class NotFoundError(SlipwayError, LookupError):
    """A model, version, alias, artifact, run or deployment that does not exist."""


class ConflictError(SlipwayError):
    """The request contradicts the current state (e.g. a rollout already running)."""


class IntegrityError(SlipwayError):
    """Stored bytes or records do not match what was recorded (hash mismatch, broken chain)."""


class UntrustedContentError(IntegrityError):
    """An artifact would execute or deserialize content that slipway does not trust."""


class StoreError(SlipwayError, OSError):
    """A storage backend (registry database, artifact store) failed or cannot be reached."""


class GateFailedError(SlipwayError):
    """A model version did not pass its validation gate."""


class GuardRejectedError(SlipwayError):
    """A runtime guard refused to score a row."""
