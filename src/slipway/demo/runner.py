"""Run the demo's stages in order on a fresh slipway home."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from slipway.api import Slipway
from slipway.core.settings import Settings
from slipway.demo import (
    batch_stage,
    guards_stage,
    registry_stage,
    runtime_stage,
    serving_stage,
    validation_stage,
)
from slipway.demo.context import DemoContext

Stage = Callable[[DemoContext], None]

STAGES: tuple[Stage, ...] = (
    registry_stage.prepare_data,
    validation_stage.prepare_plans,
    registry_stage.build_and_register,
    validation_stage.validate_models,
    registry_stage.move_aliases,
    registry_stage.show_audit,
    runtime_stage.lookups_online,
    runtime_stage.compiled_runtime,
    runtime_stage.lookups_batch,
    serving_stage.serve_over_http,
    batch_stage.score_file,
    guards_stage.guarded_scoring,
    guards_stage.degraded_mode,
)


def run_demo(home: Path, *, console: Console | None = None) -> DemoContext:
    """Run every stage on an empty ``home`` (wiped first) with the embedded defaults."""
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    settings = Settings.from_env({}, home=home)
    ctx = DemoContext(
        home=home,
        slipway=Slipway(settings),
        console=console or Console(highlight=False, emoji=False),
        data_dir=home / "data",
    )
    try:
        for stage in STAGES:
            stage(ctx)
    finally:
        ctx.slipway.close()
    ctx.console.rule("[bold green]demo finished")
    ctx.console.print(f"everything the demo made is in {home}")
    return ctx
