"""Serving a deployment: its slots (stable, candidate) loaded side by side, each request routed
by ``slipway.rollout.routing`` and answered by the slot it was routed to.

| path                                   | what                                                   |
|----------------------------------------|--------------------------------------------------------|
| ``POST /v1/models/{name}/predict``     | slipway JSON; ``name`` is the deployment or its model  |
| ``POST /v1/predict``                   | the same, for the deployment this server serves        |
| ``POST /v1/feedback``                  | an outcome for a request id or a user key              |
| ``GET /v1/deployment``                 | state, slots, traffic, and this worker's counters      |
| ``/healthz``, ``/readyz``              | liveness; readiness (the stable slot is warm)          |

The user key comes from the ``X-User-Key`` header, a ``user_key`` query parameter or a
``user_key`` field of the body. Every response names the slot and version that answered.

Off the request path: the exposure of each request goes to a bounded buffer written in batches
(dropped and counted when the registry is slow); shadow copies are scored by one thread from a
bounded queue, their failures only counted; the ``DeploymentAgent`` flushes per-slot stats,
runs the canary controller and re-reads the deployment every ``interval_s``. When it sees a
new slot, the slot is loaded, warmed and smoke-tested by its self-probe before any request
reaches it; a blue-green rollout switches only after that succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slipway.core.audit import utc_now_iso
from slipway.core.deployment import (
    CANDIDATE,
    STABLE,
    DeploymentRecord,
    DeploymentState,
    ExposureRecord,
    SlotRecord,
)
from slipway.core.errors import ConflictError, NotFoundError, SlipwayError
from slipway.rollout.agent import DeploymentAgent
from slipway.rollout.buffer import BufferedWriter
from slipway.rollout.policy import Strategy, parse_policy
from slipway.rollout.routing import mirrors, route
from slipway.rollout.service import Rollouts
from slipway.rollout.shadow import ShadowRunner
from slipway.scoring.scorer import Scorer
from slipway.serving.app import ModelServer
from slipway.serving.batcher import merge_columns
from slipway.serving.config import ServeConfig
from slipway.serving.degraded import StaticDegradedProvider
from slipway.serving.errors import RequestError
from slipway.serving.heap import freeze_loaded_objects
from slipway.serving.model import ServedModel
from slipway.serving.protocols import v1
from slipway.serving.protocols.common import rows_of
from slipway.serving.responses import error_response, json_app, json_response, read_body, request_id

log = logging.getLogger(__name__)
USER_KEY_HEADER = "x-user-key"
_MAX_KEY = 200
_WARMUP_CALLS = 20
# The shadow, exposure and agent threads run Python code; each time the event loop gives up the GIL
# (a socket write) it may wait up to the switch interval (5 ms by default) to get it back, on the
# path of an answer. 0.5 ms bounds that wait (measured together with batched shadow scoring).
_SWITCH_INTERVAL_S = 0.0005
_RETIRE_AFTER_S = 30.0  # an unused slot stays loaded this long (requests in flight, instant rollback)

BuildScorer = Callable[[SlotRecord], Scorer]


@dataclass(frozen=True, slots=True)
class _ShadowCopy:
    """A request stable answered, queued for the candidate with stable's prediction."""

    server: ModelServer
    version: int
    columns: Any
    n_rows: int
    stable_prediction: float | None


class DeploymentServer:
    def __init__(
        self,
        rollouts: Rollouts,
        name: str,
        build: BuildScorer,
        config: ServeConfig,
        *,
        interval_s: float = 1.0,
        controller: bool = True,
        exposure_capacity: int = 10_000,
        shadow_capacity: int = 1_000,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.rollouts, self.name, self.build, self.config = rollouts, name, build, config
        self.on_close = on_close
        worker = f"{socket.gethostname()}/{os.getpid()}"
        self.agent = DeploymentAgent(
            rollouts,
            name,
            worker=worker,
            interval_s=interval_s,
            controller=controller,
            on_change=self._changed,
        )
        self.exposures: BufferedWriter[ExposureRecord] = BufferedWriter(
            rollouts.deployments.record_exposures, capacity=exposure_capacity, interval_s=min(interval_s, 1.0)
        )
        self.shadow: ShadowRunner[_ShadowCopy] = ShadowRunner(self._score_copies, capacity=shadow_capacity)
        self.servers: dict[str, ModelServer] = {}  # by artifact digest
        self._unused_since: dict[str, float] = {}
        self._loading: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._random = random.Random()

    # -- lifecycle ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_INTERVAL_S)
        await self._load_slots(self.agent.record)
        self.agent.start()
        try:
            yield
        finally:
            await asyncio.to_thread(self.agent.close)
            await asyncio.to_thread(self.shadow.close)
            await asyncio.to_thread(self.exposures.close)
            for server in self.servers.values():
                await server.batcher.stop()
            if self.on_close is not None:
                await asyncio.to_thread(self.on_close)
            sys.setswitchinterval(switch_interval)

    def _changed(self, record: DeploymentRecord) -> None:
        """Called from the agent's thread when the deployment's generation changed."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._load_slots(record), self._loop)

    async def _load_slots(self, record: DeploymentRecord) -> None:
        for slot in record.slots().values():
            if slot.digest not in self.servers:
                await self._load(slot)
        await self._switch_if_ready(record)
        self._retire_unused(record)

    async def _load(self, slot: SlotRecord) -> None:
        scorer = await asyncio.to_thread(self.build, slot)
        server = ModelServer(
            ServedModel(scorer, slot.version), self.config, degraded=StaticDegradedProvider()
        )
        server.batcher.start()
        for _ in range(_WARMUP_CALLS):  # warm caches and lazy paths, then the last one is the smoke test
            result = await server.probe.run()
            if not result.ok:
                break
        server.warmed = result.ok
        if not result.ok:
            log.warning("slot %s of %s failed its smoke request: %s", slot.ref, self.name, result.to_dict())
        self.servers[slot.digest] = server
        freeze_loaded_objects(collect=False)  # other slots may be answering requests

    async def _switch_if_ready(self, record: DeploymentRecord) -> None:
        waiting = record.state is DeploymentState.ROLLING and record.candidate is not None
        if not waiting or parse_policy(record.policy).strategy is not Strategy.BLUE_GREEN:
            return
        assert record.candidate is not None
        server = self.servers.get(record.candidate.digest)
        if server is None or not server.warmed:
            return  # a candidate that failed its smoke request never gets traffic
        with contextlib.suppress(ConflictError):  # another worker or replica switched first
            switched = await asyncio.to_thread(self.rollouts.switch, self.name)
            self.agent.record = switched
            self.agent.traffic = type(self.agent.traffic).of(switched)

    def _retire_unused(self, record: DeploymentRecord) -> None:
        used = {slot.digest for slot in record.slots().values()}
        now = time.monotonic()
        for digest in list(self.servers):
            if digest in used:
                self._unused_since.pop(digest, None)
            elif (
                now - self._unused_since.setdefault(digest, now) > _RETIRE_AFTER_S and self._loop is not None
            ):
                server = self.servers.pop(digest)
                self._loop.create_task(server.batcher.stop())

    # -- requests ----------------------------------------------------------------------------

    async def predict(self, request: Request) -> Response:
        started = time.perf_counter()
        rid = request_id(request)
        slot, version = STABLE, self.agent.record.stable.version
        try:
            self._check_name(request)
            body = await read_body(request, limit=self.config.max_body_bytes)
            body, key = _user_key(request, body)
            record, traffic = self.agent.record, self.agent.traffic
            slot = route(traffic, key, self._random.random())
            target = record.slot(slot) or record.stable
            server = self.servers.get(target.digest)
            if server is None:  # the candidate is still loading: stable answers
                slot, target = STABLE, record.stable
                server = self.servers[target.digest]
            version = target.version
            parsed = v1.parse(body, max_rows=self.config.max_rows)
            outcome = await server.batcher.submit(parsed.columns, parsed.n_rows)
            rows = rows_of(outcome.scored, outcome.start, outcome.stop)
            latency_ms = (time.perf_counter() - started) * 1e3
            prediction = _number(rows[0].get("prediction")) if rows else None
            flagged = any(row.get("flags") for row in rows)
            self.agent.stats(slot, version).record(latency_ms, flagged=flagged, prediction=prediction)
            self.exposures.offer(
                ExposureRecord(rid, self.name, slot, version, utc_now_iso(), key, prediction)
            )
            if slot == STABLE and record.candidate is not None and mirrors(traffic, self._random.random()):
                self._mirror(record.candidate, parsed.columns, parsed.n_rows, prediction)
            payload = {
                "deployment": self.name,
                "slot": slot,
                "model": server.model.identity(),
                "request_id": rid,
                "predictions": rows,
                "timing": {"total_ms": round(latency_ms, 3), "score_ms": round(outcome.score_ms, 3)},
            }
            headers = {"X-Request-ID": rid, "X-Slipway-Slot": slot, "X-Slipway-Model": f"{target.ref}"}
            return json_response(payload, 200, headers)
        except Exception as error:  # noqa: BLE001 - every failure is answered as JSON
            response, _ = error_response(error, rid)
            if response.status_code >= 500:
                latency_ms = (time.perf_counter() - started) * 1e3
                self.agent.stats(slot, version).record(latency_ms, error=True)
            return response

    def _mirror(
        self, candidate: SlotRecord, columns: Any, n_rows: int, stable_prediction: float | None
    ) -> None:
        server = self.servers.get(candidate.digest)
        if server is not None:
            self.shadow.submit(_ShadowCopy(server, candidate.version, columns, n_rows, stable_prediction))

    def _score_copies(self, copies: list[_ShadowCopy]) -> int:
        """Score queued shadow copies on the candidate, one model call per candidate and columns;
        how many failed."""
        groups: dict[tuple[int, frozenset[str]], list[_ShadowCopy]] = {}
        for copy in copies:
            groups.setdefault((id(copy.server), frozenset(copy.columns)), []).append(copy)
        return sum(self._score_group(group) for group in groups.values())

    def _score_group(self, copies: list[_ShadowCopy]) -> int:
        server, stats = copies[0].server, self.agent.stats(CANDIDATE, copies[0].version)
        columns = copies[0].columns if len(copies) == 1 else merge_columns([c.columns for c in copies])
        started = time.perf_counter()
        try:
            scored = server.model.scorer.score_columns(columns)
        except SlipwayError:
            if len(copies) > 1:  # one copy's bad value must not fail its neighbours: score each alone
                return sum(self._score_group([copy]) for copy in copies)
            stats.record((time.perf_counter() - started) * 1e3, error=True)
            return 1
        except Exception:  # a failing candidate is data, never an answer's problem
            latency_ms = (time.perf_counter() - started) * 1e3
            for _ in copies:
                stats.record(latency_ms, error=True)
            log.debug("shadow scoring of %d copies failed", len(copies), exc_info=True)
            return len(copies)
        latency_ms = (time.perf_counter() - started) * 1e3  # each copy waited for the whole batch
        offset = 0
        for copy in copies:
            rows = rows_of(scored, offset, offset + copy.n_rows)
            offset += copy.n_rows
            prediction = _number(rows[0].get("prediction")) if rows else None
            flagged = any(row.get("flags") for row in rows)
            stats.record(latency_ms, flagged=flagged, prediction=prediction)
            stable = copy.stable_prediction
            if prediction is not None and stable is not None:
                stats.add("shadow_compared")
                stats.add("shadow_agreed", float(abs(prediction - stable) <= 1e-9 * max(1.0, abs(stable))))
                stats.add("shadow_abs_delta", abs(prediction - stable))
        return 0

    async def feedback(self, request: Request) -> Response:
        rid = request_id(request)
        try:
            data = _json_object(await read_body(request, limit=self.config.max_body_bytes))
            unknown = sorted(set(data) - {"request_id", "user_key", "value"})
            if unknown:
                raise RequestError(
                    f"unknown field {unknown[0]!r}: send request_id or user_key, and value", field=unknown[0]
                )
            if "value" not in data:
                raise RequestError('feedback needs a "value" (a number; 1/0 for conversions)', field="value")
            stored = await asyncio.to_thread(
                self.rollouts.feedback,
                self.name,
                data["value"],
                request_id=data.get("request_id"),
                user_key=data.get("user_key"),
            )
            return json_response({"id": stored.id, "deployment": self.name}, 201)
        except Exception as error:  # noqa: BLE001 - answered as JSON
            return error_response(error, rid)[0]

    def status(self) -> dict[str, Any]:
        record = self.agent.record
        return {
            **record.to_dict(),
            "traffic": {
                "candidate_percent": self.agent.traffic.candidate_percent,
                "mirror_percent": self.agent.traffic.mirror_percent,
            },
            "worker": {
                "pid": os.getpid(),
                "loaded": {s.model.version_label: s.warmed for s in self.servers.values()},
                "exposures_dropped": self.exposures.dropped,
                "exposures_written": self.exposures.written,
                "shadow_dropped": self.shadow.dropped,
                "shadow_failed": self.shadow.failed,
                "shadow_done": self.shadow.done,
                "agent_errors": self.agent.errors,
            },
        }

    def ready(self) -> bool:
        server = self.servers.get(self.agent.record.stable.digest)
        return server is not None and server.warmed

    def _check_name(self, request: Request) -> None:
        name = request.path_params.get("name")
        if name is not None and name not in (self.name, self.agent.record.stable.model):
            raise NotFoundError(f"no deployment {name!r} here: this server serves deployment {self.name!r}")


def _user_key(request: Request, body: bytes) -> tuple[bytes, str | None]:
    """The user key (header, query or body field ``user_key``) and the body without that field."""
    key = request.headers.get(USER_KEY_HEADER) or request.query_params.get("user_key")
    if b'"user_key"' in body:
        data = _json_object(body)
        key = data.pop("user_key", key)
        body = orjson.dumps(data)
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY):
        raise RequestError(f"invalid user key {key!r}: use 1-200 characters", field="user_key")
    return body, key


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RequestError("the body must be a JSON object")
    return data


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def create_deployment_app(server: DeploymentServer) -> Starlette:
    async def predict(request: Request) -> Response:
        return await server.predict(request)

    async def feedback(request: Request) -> Response:
        return await server.feedback(request)

    async def status(request: Request) -> Response:
        return json_response(server.status())

    async def live(request: Request) -> Response:
        return json_response({"live": True, "pid": os.getpid(), "deployment": server.name})

    async def ready(request: Request) -> Response:
        ok = server.ready()
        return json_response({"ready": ok, "deployment": server.name}, 200 if ok else 503)

    routes = [
        Route("/v1/models/{name}/predict", predict, methods=["POST"]),
        Route("/v1/predict", predict, methods=["POST"]),
        Route("/v1/feedback", feedback, methods=["POST"]),
        Route("/v1/deployment", status, methods=["GET"]),
        Route("/healthz", live, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
    ]
    return json_app(routes, lifespan=server.lifespan, state=server)
