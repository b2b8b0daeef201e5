"""JSON responses (orjson), request ids, and error bodies: the edge where errors become statuses."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Lifespan

from slipway.serving.errors import (
    ClientGoneError,
    MalformedRequestError,
    PayloadTooLargeError,
    UnavailableError,
    UnsupportedMediaTypeError,
    field_of,
    status_for,
)

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload, option=_OPTIONS), status, headers, "application/json")


RawHeaders = list[tuple[bytes, bytes]]


def encode_headers(headers: Mapping[str, str]) -> RawHeaders:
    """Headers as ASGI sends them (lower-case latin-1 names), to encode once and reuse."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class EncodedJSONResponse(Response):
    """A JSON response whose headers come already encoded (``encode_headers``).

    A scoring response carries five headers, three of them the same for every request: encoding
    them all again per request cost more than serializing the body.
    """

    media_type = "application/json"

    def __init__(self, payload: Any, status_code: int, raw_headers: RawHeaders) -> None:
        self.status_code = status_code
        self.background = None
        self.body = orjson.dumps(payload, option=_OPTIONS)
        self.raw_headers = [
            *raw_headers,
            (b"content-length", str(len(self.body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


def request_id(request: Request) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, else a new one."""
    # The raw headers, not ``request.headers``: its ``get`` raises and catches a KeyError for
    # a header that is absent, as this one usually is.
    headers: RawHeaders = request.scope["headers"]
    for name, value in headers:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _CLIENT_ID.match(given):
                return given
            break
    # 128 random bits like uuid4().hex, from the random module's generator, which Python
    # reseeds in every forked child (a getrandom system call per request cost more).
    return f"{random.getrandbits(128):032x}"


def error_response(error: BaseException, request_id: str | None = None) -> tuple[Response, str]:
    """The JSON error response for ``error`` and its kind (for the metrics)."""
    status, kind = status_for(error)
    message = str(error) if status < 500 or kind != "internal" else f"internal error ({type(error).__name__})"
    headers = {"X-Request-ID": request_id} if request_id else {}
    if isinstance(error, UnavailableError):
        headers["Retry-After"] = str(error.retry_after_s)
    body = {"error": {"kind": kind, "message": message, "field": field_of(error)}, "request_id": request_id}
    return json_response(body, status, headers), kind


async def read_body(request: Request, *, limit: int) -> bytes:
    """The body, refused with 413 once it is over ``limit`` bytes (without reading the rest).

    Reads the ASGI messages itself: Starlette's ``request.stream()`` generator cost more than
    the rest of reading a one-row body.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise MalformedRequestError(f"invalid Content-Length {declared!r}") from None
        if size > limit:
            raise PayloadTooLargeError(f"request body of {size} bytes is over the limit of {limit} bytes")
    receive = request.receive
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientGoneError("the client closed the connection before sending the whole body")
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise PayloadTooLargeError(f"request body is over the limit of {limit} bytes")
        if not message.get("more_body", False):
            return chunk if not chunks else b"".join([*chunks, chunk])
        chunks.append(chunk)


def check_json_content(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is not None and "json" not in content_type.lower():
        raise UnsupportedMediaTypeError(
            f"content type {content_type!r} is not supported: send application/json", field="Content-Type"
        )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) and any escaped fault, as JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    kind = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return json_response({"error": {"kind": kind, "message": detail, "field": None}}, status)


def json_app(routes: Sequence[BaseRoute], *, lifespan: Lifespan[Starlette], state: Any) -> Starlette:
    """A Starlette app whose every error answer is JSON; ``state`` is kept as ``app.state.server``."""
    app = Starlette(
        routes=list(routes),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.server = state
    return app
