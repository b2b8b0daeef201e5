"""slipway's own JSON: ``POST /v1/models/{name}/predict``.

Request: ``{"records": [{column: value, ...}, ...]}`` (or one object), or
``{"columns": {column: [values...], ...}}``. Response: ``predictions`` (one
``ScoredBatch.row()`` per row: prediction, probabilities, rejected, flags, extras), ``model``
(name, version, digest, runtime), ``request_id``, ``degraded``, ``degraded_reason``, ``timing``.
"""

from __future__ import annotations

from typing import Any

from slipway.serving.errors import RequestError
from slipway.serving.protocols.common import Parsed, decode_json, from_columns, from_records, json_object

FORMATS = ("records", "columns")


def parse(body: bytes, *, max_rows: int) -> Parsed:
    request = json_object(decode_json(body), what="the request body")
    given = [key for key in request if key in FORMATS]
    unknown = [key for key in request if key not in FORMATS]
    if unknown:
        raise RequestError(
            f"unknown field {unknown[0]!r} in the request: send records or columns", field=unknown[0]
        )
    if len(given) != 1:
        raise RequestError(
            'send exactly one of "records" (a list of objects) or "columns" (an object of lists)'
        )
    if given[0] == "records":
        return from_records(request["records"], field="records", max_rows=max_rows)
    return from_columns(request["columns"], field="columns", max_rows=max_rows)


def request_schema(record: dict[str, Any]) -> dict[str, Any]:
    column_values = {
        "type": "object",
        "properties": {
            name: {"type": "array", "items": schema, "minItems": 1}
            for name, schema in record["properties"].items()
        },
        "required": record["required"],
        "additionalProperties": False,
    }
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "records": {"oneOf": [{"type": "array", "items": record, "minItems": 1}, record]}
                },
                "required": ["records"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"columns": column_values},
                "required": ["columns"],
                "additionalProperties": False,
            },
        ]
    }
