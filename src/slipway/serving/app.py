"""The ASGI app: ``create_app(scorer)`` serves one model version over three protocols.

| path                                         | what                                       |
|----------------------------------------------|--------------------------------------------|
| ``POST /v1/models/{name}/predict``           | slipway JSON (records or columns)          |
| ``/v2/...``                                  | Open Inference Protocol v2 (KServe/Triton) |
| ``POST /invocations``, ``GET /ping``         | MLflow scoring protocol                    |
| ``/healthz``, ``/readyz``, ``/v2/health/*``  | liveness, readiness, self-probe            |
| ``/metrics``                                 | Prometheus                                 |
| ``/openapi.json``, ``/docs``                 | the API document                           |
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from slipway._version import __version__
from slipway.core.errors import NotFoundError
from slipway.scoring.scorer import Scorer
from slipway.serving import openapi
from slipway.serving.batcher import MicroBatcher, Outcome
from slipway.serving.config import ServeConfig
from slipway.serving.degraded import (
    NOT_DEGRADED,
    DegradedProvider,
    DegradedState,
    StageDegradedProvider,
    provider_for,
)
from slipway.serving.health import ProbeResult, Readiness, SelfProbe
from slipway.serving.heap import freeze_loaded_objects
from slipway.serving.metrics import CONTENT_TYPE, ServingMetrics
from slipway.serving.model import ServedModel
from slipway.serving.protocols import mlflow, oip, v1
from slipway.serving.protocols.common import Parsed, rows_of
from slipway.serving.responses import (
    EncodedJSONResponse,
    RawHeaders,
    check_json_content,
    encode_headers,
    error_response,
    json_app,
    json_response,
    read_body,
    request_id,
)


class ModelServer:
    """The state behind the routes: the model, its batcher, probe, readiness and metrics."""

    def __init__(
        self,
        model: ServedModel,
        config: ServeConfig,
        *,
        degraded: DegradedProvider,
        probe_record: Mapping[str, Any] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.degraded = degraded
        self.on_close = on_close
        self.metrics = ServingMetrics(
            model=model.name, version=model.version_label, digest=model.digest, runtime=model.runtime
        )
        in_thread = config.score_in == "thread" or (
            config.score_in == "auto" and (model.runtime == "native" or model.has_lookups)
        )
        self.batcher = MicroBatcher(
            model.scorer.score_columns,
            max_batch_size=config.max_batch_size,
            max_wait_ms=config.max_wait_ms,
            queue_size=config.queue_size,
            in_thread=in_thread,
            retry_after_s=config.retry_after_s,
            observe=self._observed,
            observe_depth=self.metrics.depth,
        )
        self.probe = SelfProbe(
            dict(probe_record) if probe_record is not None else model.probe_record(),
            self.batcher.submit,
            on_result=self._probed,
        )
        self.readiness = Readiness(model.scorer.stages, ttl_s=config.readiness_ttl_s)
        self.warmed = False
        self.started_at = time.time()
        self._model_headers = encode_headers(
            {
                "X-Slipway-Model": f"{model.name}:{model.version_label}",
                "X-Slipway-Digest": model.digest,
                "X-Slipway-Runtime": model.runtime,
            }
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.batcher.start()
        self.warmed = (await self.probe.run()).ok
        freeze_loaded_objects()
        periodic = (
            asyncio.get_running_loop().create_task(self.probe.run_every(self.config.probe_interval_s))
            if self.config.probe_interval_s > 0
            else None
        )
        try:
            yield
        finally:
            if periodic is not None:
                periodic.cancel()
                await asyncio.gather(periodic, return_exceptions=True)
            await self.batcher.stop()
            if self.on_close is not None:
                await asyncio.to_thread(self.on_close)

    def _observed(self, requests: int, rows: int, scored: Any, score_ms: float) -> None:
        self.metrics.batch(requests, rows, scored)

    def _probed(self, result: ProbeResult) -> None:
        self.metrics.probe(ok=result.ok, seconds=result.latency_ms / 1e3)

    # -- scoring -----------------------------------------------------------------------------

    def check_model(self, request: Request) -> None:
        name = request.path_params.get("name")
        if name is not None and name != self.model.name:
            raise NotFoundError(f"no model {name!r} here: this server serves {self.model.name!r}")
        version = request.path_params.get("version")
        if version is not None and version not in (self.model.version_label, str(self.model.version)):
            raise NotFoundError(
                f"no version {version!r} of {self.model.name!r} here: this server serves "
                f"version {self.model.version_label}"
            )

    async def score(
        self,
        request: Request,
        protocol: str,
        parse: Callable[[bytes, Request], Parsed],
        render: Callable[[Parsed, Outcome, str, dict[str, Any], DegradedState], Any],
    ) -> Response:
        started = time.perf_counter()
        rid = request_id(request)
        try:
            self.check_model(request)
            body = await read_body(request, limit=self.config.max_body_bytes)
            parsed = parse(body, request)
            outcome = await self.batcher.submit(parsed.columns, parsed.n_rows)
            timing = {
                "total_ms": (time.perf_counter() - started) * 1e3,
                "queue_ms": outcome.queue_ms,
                "score_ms": outcome.score_ms,
                "predict_ms": outcome.scored.timings.get("predict_ms", 0.0),
                "batch_rows": outcome.batch_rows,
            }
            state = DegradedState.from_notes(outcome.scored.notes.get("degraded")) or self._degraded_now()
            response: Response = EncodedJSONResponse(
                render(parsed, outcome, rid, timing, state), 200, self._headers(rid, state)
            )
            kind = None
        except Exception as error:  # noqa: BLE001 - every failure is answered as JSON; 5xx only for server faults
            response, kind = error_response(error, rid)
        self.metrics.request(protocol, response.status_code, time.perf_counter() - started, kind)
        return response

    def _degraded_now(self) -> DegradedState:
        # The degraded-mode stage notes every batch it scores while degraded: no note, no state
        # (and no registry read on the event loop).
        return NOT_DEGRADED if isinstance(self.degraded, StageDegradedProvider) else self.degraded.current()

    def _headers(self, rid: str, state: DegradedState) -> RawHeaders:
        return [
            *self._model_headers,
            (b"x-request-id", rid.encode("latin-1")),
            (b"x-slipway-degraded", b"true" if state.degraded else b"false"),
        ]

    def render_v1(
        self, parsed: Parsed, outcome: Outcome, rid: str, timing: dict[str, Any], state: DegradedState
    ) -> Any:
        return {
            "model": self.model.identity(),
            "request_id": rid,
            "predictions": rows_of(outcome.scored, outcome.start, outcome.stop),
            "degraded": state.degraded,
            "degraded_reason": state.reason,
            "degraded_mode": state.mode,
            "timing": timing,
        }

    def render_v2(
        self, parsed: Parsed, outcome: Outcome, rid: str, timing: dict[str, Any], state: DegradedState
    ) -> Any:
        rows = rows_of(outcome.scored, outcome.start, outcome.stop)
        parameters: dict[str, Any] = {
            "request_id": rid,
            "digest": self.model.digest,
            "runtime": self.model.runtime,
            "degraded": state.degraded,
            "total_ms": timing["total_ms"],
        }
        if state.degraded:
            parameters["degraded_reason"] = state.reason or ""
            parameters["degraded_mode"] = state.mode or ""
        return {
            "model_name": self.model.name,
            "model_version": self.model.version_label,
            "id": parsed.options.get("id") or rid,
            "parameters": parameters,
            "outputs": oip.outputs(rows, parsed.options.get("outputs")),
        }

    def render_mlflow(
        self, parsed: Parsed, outcome: Outcome, rid: str, timing: dict[str, Any], state: DegradedState
    ) -> Any:
        return mlflow.predictions(rows_of(outcome.scored, outcome.start, outcome.stop))

    # -- health ------------------------------------------------------------------------------

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        lookups = await self.readiness.lookups()
        ok = self.warmed and all(status == "ok" for status in lookups.values())
        return ok, {"ready": ok, "model_loaded": True, "warmed": self.warmed, "lookups": lookups}

    def health(self) -> dict[str, Any]:
        state = self.degraded.current()
        return {
            "live": True,
            "pid": os.getpid(),
            # Set per worker by slipway.runtimes.threads.configure_threads (None: not configured).
            "model_threads": os.environ.get("SLIPWAY_MODEL_THREADS"),
            "model": self.model.identity(),
            "uptime_s": round(time.time() - self.started_at, 1),
            "queue_depth": self.batcher.depth,
            "degraded": state.degraded,
            "degraded_reason": state.reason,
            "degraded_mode": state.mode,
            "probe": self.probe.to_dict(),
        }


def create_app(
    scorer: Scorer,
    *,
    version: int | None = None,
    config: ServeConfig | None = None,
    degraded: DegradedProvider | None = None,
    probe_record: Mapping[str, Any] | None = None,
    on_close: Callable[[], None] | None = None,
) -> Starlette:
    """A Starlette app serving ``scorer``'s model (``version`` is its registry version, if any).

    ``degraded`` supplies the endpoint's degraded state [the scorer's degraded-mode stage, if
    any; else never degraded]; ``probe_record`` is the
    record the self-probe scores [typical values from the training profile]; ``on_close`` runs
    at shutdown, after the last request (e.g. closing lookup connections).
    """
    server = ModelServer(
        ServedModel(scorer, version),
        config or ServeConfig(),
        degraded=degraded or provider_for(scorer.stages),
        probe_record=probe_record,
        on_close=on_close,
    )
    cfg = server.config

    def parse_v1(body: bytes, request: Request) -> Parsed:
        check_json_content(request)
        return v1.parse(body, max_rows=cfg.max_rows)

    def parse_v2(body: bytes, request: Request) -> Parsed:
        header = request.headers.get("inference-header-content-length")
        return oip.parse(body, header_length=header, model=server.model, max_rows=cfg.max_rows)

    def parse_mlflow(body: bytes, request: Request) -> Parsed:
        check_json_content(request)
        return mlflow.parse(body, max_rows=cfg.max_rows)

    async def predict_v1(request: Request) -> Response:
        return await server.score(request, "v1", parse_v1, server.render_v1)

    async def infer_v2(request: Request) -> Response:
        return await server.score(request, "v2", parse_v2, server.render_v2)

    async def invocations(request: Request) -> Response:
        return await server.score(request, "mlflow", parse_mlflow, server.render_mlflow)

    async def live(request: Request) -> Response:
        return json_response(server.health())

    async def ready(request: Request) -> Response:
        try:
            server.check_model(request)
        except NotFoundError as error:
            return error_response(error)[0]
        ok, body = await server.ready()
        return json_response({**body, "probe": server.probe.to_dict()["last"]}, 200 if ok else 503)

    async def model_metadata_v1(request: Request) -> Response:
        try:
            server.check_model(request)
        except NotFoundError as error:
            return error_response(error)[0]
        return json_response(
            {
                **server.model.identity(),
                "inputs": server.model.column_kinds(),
                "classes": server.model.classes,
            }
        )

    async def model_metadata_v2(request: Request) -> Response:
        try:
            server.check_model(request)
        except NotFoundError as error:
            return error_response(error)[0]
        return json_response(oip.metadata(server.model))

    async def server_metadata(request: Request) -> Response:
        return json_response({"name": "slipway", "version": __version__, "extensions": []})

    async def metrics(request: Request) -> Response:
        server.metrics.depth(server.batcher.depth)
        return Response(server.metrics.exposition(), media_type=CONTENT_TYPE)

    document = openapi.document(server.model)

    async def openapi_json(request: Request) -> Response:
        return json_response(document)

    async def docs(request: Request) -> Response:
        return HTMLResponse(openapi.DOCS_PAGE)

    async def ping(request: Request) -> Response:
        return Response(b"\n", media_type="application/json")

    routes = [
        Route("/v1/models/{name}/predict", predict_v1, methods=["POST"]),
        Route("/v1/models/{name}", model_metadata_v1, methods=["GET"]),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}", model_metadata_v2, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata_v2, methods=["GET"]),
        Route("/v2/models/{name}/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}/infer", infer_v2, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", infer_v2, methods=["POST"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/ping", ping, methods=["GET"]),
        Route("/healthz", live, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
    ]
    return json_app(routes, lifespan=server.lifespan, state=server)
