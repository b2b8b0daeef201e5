"""Demo stage: a canary of apartments v2 against v1 under simulated traffic, promoted step by step,
then a planted bad v3 (trained on a mis-scaled price) rolled back automatically; the audit of both."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from slipway.core.deployment import CANDIDATE, DeploymentState
from slipway.demo.context import DemoContext
from slipway.demo.registry_stage import summarize
from slipway.examples import apartments
from slipway.registry.deployments import subject
from slipway.rollout.agent import DeploymentAgent
from slipway.rollout.routing import Traffic, route
from slipway.rollout.service import Rollouts
from slipway.scoring.scorer import Scorer

DEPLOYMENT = "apartments-web"
ROUND = 250  # requests between two controller ticks
MAX_ROUNDS = 40
CANARY: dict[str, Any] = {"steps": "10,50,100", "min_requests": 150, "min_seconds": 0}


def canary_release(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("Release: canary of apartments v2 against v1, then a bad v3 rolled back")
    bad = _register_bad_version(ctx)
    environ = {apartments.ZIP_DB_URL_ENV: ctx.state["zip_db_url"]} if "zip_db_url" in ctx.state else None
    scorers = {v: sw.scorer(f"apartments:{v}", environ=environ) for v in (1, 2, bad)}
    holdout = ctx.state["apartments_holdout"].drop(columns=[apartments.TARGET, apartments.LOOKUP_VALUE])
    records: list[dict[str, Any]] = holdout.to_dict("records")
    for scorer in scorers.values():  # warm up, as a server's probe does before a slot gets traffic
        for row in records[:20]:
            scorer.score_records([row])
    sw.deploy(DEPLOYMENT, "apartments:1")
    for ref, label in (
        ("apartments:2", "v2 (more trees)"),
        (f"apartments:{bad}", f"v{bad} (planted defect)"),
    ):
        sw.rollout(DEPLOYMENT, ref, strategy="canary", **CANARY)
        ctx.console.print(
            f"canary of {label}: steps {CANARY['steps']}%, {CANARY['min_requests']} requests per step"
        )
        _simulate(ctx, sw.rollouts, scorers, records)
    record = sw.rollouts.deployments.get(DEPLOYMENT)
    ctx.console.print(
        f"deployment {DEPLOYMENT} now serves apartments:{record.stable.version} ({record.state})"
    )
    events = [e for e in sw.audit_log() if e.subject == subject(DEPLOYMENT)]
    ctx.table(
        ["seq", "action", "what"],
        [(e.seq, e.action, _what(e.after)) for e in events],
        title=f"audit trail of {subject(DEPLOYMENT)}",
    )


def _register_bad_version(ctx: DemoContext) -> int:
    """A model trained on prices scaled by 1.4 (a units bug): it serves fine, but its answers shift."""
    sw = ctx.slipway
    train = ctx.state["apartments_train"].copy()
    train[apartments.TARGET] = train[apartments.TARGET] * 1.4
    built = sw.build(
        apartments.train(train),
        name=apartments.NAME,
        train=ctx.data_dir / "apartments_train.parquet",
        target=apartments.TARGET,
        features=apartments.FEATURES,
        model_card=apartments.MODEL_CARD,
        lookups=[apartments.lookup()],
    )
    record = sw.register(built)
    ctx.console.print(f"registered apartments v{record.version}: trained on prices x1.4 (the planted defect)")
    return record.version


def _simulate(
    ctx: DemoContext, rollouts: Rollouts, scorers: dict[int, Scorer], records: list[dict[str, Any]]
) -> None:
    """Users request prices; each request is routed, scored and counted as a serving worker would."""
    agent = DeploymentAgent(rollouts, DEPLOYMENT, worker="demo", controller=False)
    rng = np.random.default_rng(0)
    candidate_requests = 0
    for _ in range(MAX_ROUNDS):
        record = agent.refresh()
        if record.state is DeploymentState.STABLE:
            break
        traffic = Traffic.of(record)
        for _ in range(ROUND):
            user = f"user-{rng.integers(100_000)}"
            slot = route(traffic, user, float(rng.random()))
            version = (
                record.stable.version
                if slot != CANDIDATE or record.candidate is None
                else record.candidate.version
            )
            started = time.perf_counter()
            scored = scorers[version].score_records([records[int(rng.integers(len(records)))]])
            latency_ms = (time.perf_counter() - started) * 1e3
            prediction = None if scored.rejected[0] else float(scored.predictions[0])
            agent.stats(slot, version).record(
                latency_ms,
                error=bool(scored.rejected[0]),
                flagged=bool(scored.flags[0]),
                prediction=prediction,
            )
            candidate_requests += slot == CANDIDATE
        agent.flush()
        _, verdict, action = rollouts.tick(DEPLOYMENT)
        if action is not None:
            detail = "" if verdict is None else f" - {verdict.reasons[0]}"
            ctx.console.print(f"  after {candidate_requests} candidate requests: {action}{detail}")


def _what(after: Mapping[str, Any] | None) -> str:
    if not after:
        return "-"
    keys = ("result", "percent", "candidate", "stable", "awaiting")
    shown = {k: after[k] for k in keys if k in after and not isinstance(after[k], dict)}
    if isinstance(after.get("candidate"), dict):
        shown["candidate"] = after["candidate"]["version"]
    reasons = after.get("reasons")
    text = summarize(shown)
    return text + (f" reasons: {reasons[0][:90]}" if reasons else "")
