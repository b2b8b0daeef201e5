"""Errors of the HTTP edge and the one table mapping every error class to a status and a kind.

Client mistakes are 4xx with a JSON body ``{"error": {"kind", "message", "field"}, "request_id"}``
naming the field when there is one; only a fault of the server itself is a 5xx.
"""

from __future__ import annotations

import re

from slipway.core.errors import (
    ConflictError,
    GuardRejectedError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    SlipwayError,
    StoreError,
)


class RequestError(InvalidInputError):
    """A request body that cannot be scored; ``field`` names the offending part when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MalformedRequestError(RequestError):
    """The body is not JSON, or not the shape the protocol defines."""


class PayloadTooLargeError(RequestError):
    """The body or its row count is over the server's limit."""


class UnsupportedMediaTypeError(RequestError):
    """The body's content type is not one the endpoint reads."""


class ClientGoneError(SlipwayError):
    """The client closed the connection before it sent the whole request."""


class UnavailableError(SlipwayError):
    """The server cannot take the request now (queue full, shutting down, not ready)."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# Checked in order: the first class the error is an instance of gives its status and kind.
STATUSES: tuple[tuple[type[BaseException], int, str], ...] = (
    (MalformedRequestError, 400, "malformed_request"),
    (PayloadTooLargeError, 413, "payload_too_large"),
    (UnsupportedMediaTypeError, 415, "unsupported_media_type"),
    (InvalidInputError, 422, "invalid_input"),
    (GuardRejectedError, 422, "rejected"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (UnavailableError, 503, "unavailable"),
    # nginx's "client closed request": nobody reads the answer, but the metrics count it apart.
    (ClientGoneError, 499, "client_closed"),
    (StoreError, 503, "store_unavailable"),
    (IntegrityError, 500, "integrity"),
    (SlipwayError, 500, "server_error"),
)

_FIELD = re.compile(r"column '([^']+)'")


def status_for(error: BaseException) -> tuple[int, str]:
    for cls, status, kind in STATUSES:
        if isinstance(error, cls):
            return status, kind
    return 500, "internal"


def field_of(error: BaseException) -> str | None:
    """The field an error is about: its own ``field``, or the column its message names."""
    field = getattr(error, "field", None)
    if field is not None:
        return str(field)
    match = _FIELD.search(str(error))
    return match.group(1) if match else None
