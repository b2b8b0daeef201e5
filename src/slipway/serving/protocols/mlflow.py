"""MLflow's scoring protocol: ``POST /invocations``, so MLflow clients can switch unchanged.

Request (``application/json``): exactly one of ``dataframe_split`` (``{"columns", "data"}``),
``dataframe_records`` (a list of records), ``instances`` or ``inputs`` (a list of records or an
object of columns); ``params`` are not supported (a 422 says so). Response:
``{"predictions": [...]}`` as MLflow answers; a rejected row's prediction is null. slipway's
request id, model version and degraded state are in ``X-*`` headers.
"""

from __future__ import annotations

from typing import Any

from slipway.serving.errors import RequestError
from slipway.serving.protocols.common import (
    Parsed,
    decode_json,
    from_columns,
    from_records,
    from_split,
    json_object,
)

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def parse(body: bytes, *, max_rows: int) -> Parsed:
    request = json_object(decode_json(body), what="the request body")
    params = request.get("params")
    if params not in (None, {}):
        raise RequestError("params are not supported by this model: remove them", field="params")
    unknown = [key for key in request if key not in (*FORMATS, "params")]
    if unknown:
        raise RequestError(
            f"unknown field {unknown[0]!r}: send one of {', '.join(FORMATS)}", field=unknown[0]
        )
    given = [key for key in FORMATS if key in request]
    if len(given) != 1:
        raise RequestError(f"send exactly one of {', '.join(FORMATS)}")
    key = given[0]
    value = request[key]
    if key == "dataframe_split":
        return from_split(value, field=key, max_rows=max_rows)
    if (
        key in ("instances", "inputs")
        and isinstance(value, dict)
        and all(isinstance(item, list) for item in value.values())
    ):
        return from_columns(value, field=key, max_rows=max_rows)
    return from_records(value, field=key, max_rows=max_rows)


def predictions(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"predictions": [row["prediction"] for row in rows]}


def request_schema(record: dict[str, Any]) -> dict[str, Any]:
    names = list(record["properties"])
    records = {"type": "array", "items": record, "minItems": 1}
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "dataframe_split": {
                        "type": "object",
                        "properties": {
                            "columns": {"type": "array", "items": {"type": "string", "enum": names}},
                            "data": {"type": "array", "items": {"type": "array"}},
                        },
                        "required": ["columns", "data"],
                    }
                },
                "required": ["dataframe_split"],
                "additionalProperties": False,
            },
            *(
                {
                    "type": "object",
                    "properties": {key: records},
                    "required": [key],
                    "additionalProperties": False,
                }
                for key in ("dataframe_records", "instances", "inputs")
            ),
        ]
    }
