"""Demo: the apartments model looks up its zip-code price in SQLite, and runs on its verified ONNX
compilation; online lookups and the batch join agree."""

from __future__ import annotations

import time
from statistics import median
from typing import Any

from threadpoolctl import threadpool_limits

from slipway.demo.context import DemoContext
from slipway.examples import apartments
from slipway.runtimes.selection import compiled_status, select_runtime
from slipway.scoring.result import ScoredBatch
from slipway.scoring.scorer import Scorer

_TIMED_CALLS = 100
_REQUEST: dict[str, Any] = {"surface": 64.0, "rooms": 3, "floor": 4, "construction_year": 1998}


def _flags(scored: ScoredBatch, row: int) -> str:
    return "; ".join(f"{flag.code} ({flag.action})" for flag in scored.flags[row]) or "-"


def lookups_online(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("5. Enrichment: requests send the zip code, the price per m² comes from SQLite")
    url = apartments.write_zip_table(ctx.data_dir / "zip_prices.db")
    ctx.state["zip_db_url"] = url
    environ = {apartments.ZIP_DB_URL_ENV: url}
    ctx.console.print(
        f"zip table written to {url}; the artifact reads the URL from ${apartments.ZIP_DB_URL_ENV}"
    )
    artifact = sw.load("apartments@champion")
    lookups = sw.lookup_stages(artifact, environ=environ)
    for stage in lookups:
        stage.check_reachable()  # what a server's readiness probe does; it also opens the connection
    scorer = Scorer(artifact, runtime=select_runtime(artifact), stages=lookups)
    ctx.state["apartments_scorer"] = scorer
    requests: list[dict[str, Any]] = [
        {**_REQUEST, "zip_code": "75004"},
        {**_REQUEST, "zip_code": "75016"},
        {**_REQUEST, "zip_code": "99999"},
        {**_REQUEST, "zip_code": None},
    ]
    scored = scorer.score_records(requests)
    rows = [
        (
            request["zip_code"],
            f"{scored.predictions[index]:,.0f}" if not scored.rejected[index] else "(rejected)",
            _flags(scored, index),
        )
        for index, request in enumerate(requests)
    ]
    ctx.table(["zip_code", "price", "flags"], rows, title=f"apartments@champion, runtime {scored.runtime}")
    notes = scored.notes["lookups"]["zip_prices"]
    again = scorer.score_records(requests[:2]).notes["lookups"]["zip_prices"]
    ctx.console.print(
        f"first batch: {notes['keys']} distinct keys in 1 query ({notes['latency_ms']:.1f} ms); "
        f"same keys again: {again['cache_hits']} cache hits, {again['queried']} queried"
    )
    down = sw.scorer(
        "apartments@champion",
        lookups=[
            {"name": "zip_prices", "timeout_ms": 200, "source": {"url": "sqlite:////nonexistent/zip.db"}}
        ],
    )
    failed = down.score_records(requests[:1])
    ctx.console.print(
        f"lookup database unreachable: answered with the median zip price, "
        f"price {failed.predictions[0]:,.0f}, flag {_flags(failed, 0)}"
    )


def compiled_runtime(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("6. The verified ONNX runtime")
    rows: list[tuple[Any, ...]] = []
    for ref in ("apartments@champion", "credit@champion"):
        status = compiled_status(sw.load(ref))
        parity = status.parity or {}
        rows.append(
            (
                ref,
                "onnx" if status.verified else "native",
                parity.get("rows", "-"),
                f"{parity.get('max_tolerance_used', 0):.0%}" if parity else "-",
                parity.get("mismatching_rows", "-"),
                status.reason or "verified",
            )
        )
    ctx.table(["model", "serves with", "parity rows", "tolerance used", "mismatches", "status"], rows)
    artifact = sw.load("credit@champion")
    record = ctx.state["credit_holdout"].drop(columns=["default", "gender"]).iloc[:1].to_dict("records")
    timings = {}
    # One model thread, as a server worker has (slipway.runtimes.threads): for one row, more
    # OpenMP threads only add synchronisation.
    with threadpool_limits(limits=1):
        for choice in ("native", "compiled"):
            scorer = Scorer(artifact, runtime=select_runtime(artifact, choice))
            scorer.score_records(record)
            samples = []
            for _ in range(_TIMED_CALLS):
                started = time.perf_counter()
                scorer.score_records(record)
                samples.append(time.perf_counter() - started)
            timings[scorer.runtime_name] = median(samples) * 1e3
    ctx.console.print(
        f"credit, one row through the Scorer (median of {_TIMED_CALLS}): native {timings['native']:.2f} ms, "
        f"onnx {timings['onnx']:.3f} ms ({timings['native'] / timings['onnx']:.0f}x faster)"
    )


def lookups_batch(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("7. Batch enrichment is a join, and agrees with online lookups")
    environ = {apartments.ZIP_DB_URL_ENV: ctx.state["zip_db_url"]}
    frame = ctx.state["apartments_holdout"].drop(columns=[apartments.LOOKUP_VALUE, apartments.TARGET])
    artifact = sw.load("apartments@champion")
    runtime = select_runtime(artifact)
    joined = Scorer(artifact, runtime=runtime, stages=sw.lookup_stages(artifact, environ=environ, join=True))
    online = ctx.state["apartments_scorer"]
    batch_scored, online_scored = joined.score_frame(frame), online.score_frame(frame)
    same = batch_scored.rows() == online_scored.rows()
    ctx.console.print(
        f"{len(frame)} holdout apartments: the join and online lookups give identical predictions "
        f"and flags: {same}"
    )
