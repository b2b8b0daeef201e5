"""The OpenAPI 3.0 document of a server: every path, with request schemas from the model's schema."""

from __future__ import annotations

from typing import Any

from slipway._version import __version__
from slipway.serving.model import ServedModel
from slipway.serving.protocols import mlflow, oip, v1

DOCS_PAGE = """<!doctype html>
<html><head><title>slipway API</title><meta charset="utf-8">
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""

_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
        },
        "request_id": {"type": "string", "nullable": True},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "malformed JSON or body",
        404: "unknown model or version",
        413: "body or row count over the limit",
        415: "unsupported content type",
        422: "a missing, extra or mistyped column, or a null where not allowed (the field is named)",
        503: "overloaded (Retry-After) or not ready",
    }
    return {str(code): _json(_ERROR, text[code]) for code in codes}


def _param(name: str, values: list[str]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "enum": values}}


def _get(
    summary: str, *, params: list[dict[str, Any]] | None = None, codes: tuple[int, ...] = ()
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": _json({"type": "object"}, "OK"), **_errors(*codes)},
    }
    if params:
        operation["parameters"] = params
    return {"get": operation}


def _post(
    summary: str, schema: dict[str, Any], *, params: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {"200": _json({"type": "object"}, "scored"), **_errors(400, 404, 413, 415, 422, 503)},
    }
    if params:
        operation["parameters"] = params
    return {"post": operation}


def document(model: ServedModel) -> dict[str, Any]:
    record = model.record_schema()
    name = [_param("name", [model.name])]
    versioned = [*name, _param("version", [model.version_label])]
    v2 = oip.request_schema(model)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"slipway: {model.name} {model.version_label}",
            "version": __version__,
            "description": (
                f"Scores {model.name} (digest {model.digest}, runtime {model.runtime}) over slipway's "
                "JSON, the Open Inference Protocol v2 and MLflow's scoring protocol."
            ),
        },
        "paths": {
            "/v1/models/{name}/predict": _post(
                "Score records or columns (slipway JSON)", v1.request_schema(record), params=name
            ),
            "/v1/models/{name}": _get("The model's identity and input columns", params=name, codes=(404,)),
            "/v2": _get("Server metadata (Open Inference Protocol)"),
            "/v2/health/live": _get("Liveness"),
            "/v2/health/ready": _get("Readiness: model loaded and warmed, lookups reachable", codes=(503,)),
            "/v2/models/{name}": _get("Model metadata (Open Inference Protocol)", params=name, codes=(404,)),
            "/v2/models/{name}/versions/{version}": _get("Model metadata", params=versioned, codes=(404,)),
            "/v2/models/{name}/ready": _get("Model readiness", params=name, codes=(404, 503)),
            "/v2/models/{name}/versions/{version}/ready": _get(
                "Model readiness", params=versioned, codes=(404, 503)
            ),
            "/v2/models/{name}/infer": _post("Inference (Open Inference Protocol v2)", v2, params=name),
            "/v2/models/{name}/versions/{version}/infer": _post("Inference", v2, params=versioned),
            "/invocations": _post("Score (MLflow scoring protocol)", mlflow.request_schema(record)),
            "/ping": _get("MLflow-style health check"),
            "/healthz": _get("Liveness, with the last self-probe"),
            "/readyz": _get("Readiness", codes=(503,)),
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }
