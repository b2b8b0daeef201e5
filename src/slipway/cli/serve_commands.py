"""``slipway serve``: real-time scoring over HTTP (slipway JSON, Open Inference v2, MLflow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from slipway.cli.context import slipway
from slipway.core.errors import InvalidInputError
from slipway.serving.config import ServeConfig


def _probe_record(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        record = json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"--probe-record: not a JSON object or @FILE of one ({exc})") from None
    if not isinstance(record, dict):
        raise InvalidInputError("--probe-record must be a JSON object of column values")
    return record


@click.command("serve")
@click.argument("model_ref", metavar="MODEL_REF", required=False)
@click.option(
    "--deployment",
    help="Without MODEL_REF: serve this deployment (slots and policy from the registry). With it: the "
    "name whose degraded mode applies [the model's name].",
)
@click.option(
    "--rollout-interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Deployment: seconds between stats flushes, controller runs and policy reads.",
)
@click.option(
    "--controller/--no-controller",
    default=True,
    show_default=True,
    help="Deployment: run the canary controller in this server (or `slipway rollout watch`).",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0: every interface)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--runtime",
    type=click.Choice(["auto", "native", "compiled"]),
    default="auto",
    show_default=True,
    help="auto: the verified compiled model when the artifact has one.",
)
@click.option(
    "--lookups",
    type=click.Path(path_type=Path),
    help="Deployment lookups overriding the artifact's (.yaml/.json).",
)
@click.option(
    "--max-batch-size",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Rows per micro-batch.",
)
@click.option(
    "--max-wait-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Wait for more requests once one is queued (0: batch only what is already waiting).",
)
@click.option(
    "--queue-size",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Requests waiting to be scored before 503 + Retry-After.",
)
@click.option("--max-body-bytes", type=click.IntRange(min=64), default=1 << 20, show_default=True)
@click.option(
    "--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True, help="Rows per request."
)
@click.option(
    "--score-in",
    type=click.Choice(["auto", "thread", "loop"]),
    default="auto",
    show_default=True,
    help="Where batches are scored: a thread, or the event loop (fast compiled models).",
)
@click.option(
    "--probe-interval", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Seconds."
)
@click.option(
    "--probe-record", help="The self-probe's record: a JSON object or @FILE [from the training profile]."
)
@click.option("--no-guards", is_flag=True, help="Leave out the artifact's runtime guards.")
@click.option(
    "--degrade-when",
    metavar="GUARD:SHARE:WINDOW[:MODE]",
    help="Enter degraded mode automatically, e.g. domain:0.2:500:warn (over 20%% of the last 500 rows "
    "flagged by the domain guard).",
)
@click.option("--trust-pickle", is_flag=True, help="Accept a pickle model (runs code on load!).")
def serve(
    model_ref: str | None,
    deployment: str | None,
    rollout_interval: float,
    controller: bool,
    host: str,
    port: int,
    workers: int,
    runtime: str,
    lookups: Path | None,
    max_batch_size: int,
    max_wait_ms: float,
    queue_size: int,
    max_body_bytes: int,
    max_rows: int,
    score_in: str,
    probe_interval: float,
    probe_record: str | None,
    no_guards: bool,
    degrade_when: str | None,
    trust_pickle: bool,
) -> None:
    """Serve MODEL_REF (NAME:VERSION, NAME@ALIAS or an artifact path), or a deployment with
    --deployment NAME (each request routed to its stable or candidate slot), until interrupted.

    Endpoints: POST /v1/models/NAME/predict, the Open Inference Protocol v2 under /v2, MLflow's
    POST /invocations; /healthz, /readyz, /metrics, /openapi.json, /docs.
    """
    config = ServeConfig(
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        queue_size=queue_size,
        max_body_bytes=max_body_bytes,
        max_rows=max_rows,
        score_in=score_in,  # type: ignore[arg-type]  # click.Choice checked it
        probe_interval_s=probe_interval,
    )
    if model_ref is None and deployment is None:
        raise InvalidInputError("give MODEL_REF, or --deployment NAME to serve a deployment")
    if model_ref is None and deployment is not None:
        slipway().rollouts.deployments.get(deployment)  # a clear error before the banner
        click.echo(
            f"slipway serve --deployment {deployment} on http://{host}:{port} "
            f"({workers} worker(s)); Ctrl+C stops",
            err=True,
        )
        slipway().serve_deployment(
            deployment,
            host=host,
            port=port,
            workers=workers,
            config=config,
            interval_s=rollout_interval,
            controller=controller,
        )
        return
    assert model_ref is not None
    if degrade_when is not None:
        from slipway.guards.degraded import parse_rule

        parse_rule(degrade_when)  # a clear error before the banner
    click.echo(
        f"slipway serve {model_ref} on http://{host}:{port} ({workers} worker(s)); Ctrl+C stops", err=True
    )
    slipway().serve(
        model_ref,
        host=host,
        port=port,
        workers=workers,
        runtime=runtime,
        lookups=lookups,
        config=config,
        probe_record=_probe_record(probe_record),
        trust_pickle=trust_pickle,
        guards=not no_guards,
        deployment=deployment,
        degrade_when=degrade_when,
    )


def install(cli: click.Group) -> None:
    cli.add_command(serve)
