"""Demo stage: train both examples, build and register artifacts, move aliases, show the audit."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from slipway.core.audit import utc_now_iso
from slipway.demo.context import DemoContext
from slipway.examples import apartments, credit


def summarize(values: Mapping[str, Any] | None) -> str:
    """A compact one-line form of an audit event's after-state (digests shortened)."""
    if not values:
        return "-"
    shown = {
        key: (value[:12] if key.endswith("digest") and isinstance(value, str) else value)
        for key, value in values.items()
    }
    return " ".join(f"{key}={value}" for key, value in shown.items())


def prepare_data(ctx: DemoContext) -> None:
    ctx.heading("1. Generate the example data (deterministic, no download)")
    prices = apartments.zip_prices()
    flats = apartments.enrich(apartments.generate())
    train, validation, holdout = apartments.split(flats)
    loans = credit.generate()
    c_train, c_validation, c_holdout = credit.split(loans)
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "zip_prices": prices,
        "apartments_train": train,
        "apartments_validation": validation,
        "apartments_holdout": holdout,
        "credit_train": c_train,
        "credit_validation": c_validation,
        "credit_holdout": c_holdout,
    }
    for name, frame in files.items():
        frame.to_parquet(ctx.data_dir / f"{name}.parquet", index=False)
        ctx.state[name] = frame
    ctx.console.print(
        f"apartments: {len(flats)} rows ({len(prices)} zip codes in the lookup table); "
        f"credit: {len(loans)} rows; written to {ctx.data_dir}"
    )


def build_and_register(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("2. Build and register artifacts")
    data = ctx.data_dir
    candidates: tuple[dict[str, Any], ...] = ({"max_iter": 100}, {"max_iter": 250, "learning_rate": 0.08})
    for version, params in enumerate(candidates, start=1):
        model = apartments.train(ctx.state["apartments_train"], **params)
        built = sw.build(
            model,
            name=apartments.NAME,
            train=data / "apartments_train.parquet",
            validation=data / "apartments_validation.parquet",
            target=apartments.TARGET,
            features=apartments.FEATURES,
            model_card=apartments.MODEL_CARD,
            lookups=[apartments.lookup()],
        )
        record = sw.register(built)
        ctx.state[f"apartments_v{version}"] = record
        ctx.console.print(
            f"apartments v{record.version}: {built.digest[:12]} ({built.manifest.model.flavor})"
        )
    model = credit.train(ctx.state["credit_train"])
    built = sw.build(
        model,
        name=credit.NAME,
        train=data / "credit_train.parquet",
        validation=data / "credit_validation.parquet",
        target=credit.TARGET,
        exclude=[credit.SENSITIVE],
        model_card=credit.MODEL_CARD,
    )
    record = sw.register(built)
    ctx.state["credit_v1"] = record
    again = sw.register(built)
    ctx.console.print(
        f"credit v{record.version}: {built.digest[:12]}; registering the same artifact again "
        f"returns version {again.version}, not a new one"
    )


def move_aliases(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("3. Aliases and tags")
    sw.set_alias("apartments", "champion", 1, reason="first release")
    time.sleep(0.01)
    ctx.state["before_move"] = utc_now_iso()
    time.sleep(0.01)
    sw.set_alias("apartments", "champion", 2, reason="more trees, lower error")
    sw.set_alias("credit", "champion", 1, reason="first release")
    sw.tag("apartments:2", "team", "pricing")
    for name in ("apartments", "credit"):
        for record in sw.versions(name):
            aliases = ", ".join(record.aliases) or "-"
            ctx.console.print(f"{record.ref}  status {record.status}  aliases {aliases}")
    at = ctx.state["before_move"]
    ctx.console.print(
        f"history: apartments@champion at {at} was version {sw.history('apartments@champion', at=at)}"
    )


def show_audit(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("4. The audit trail (hash chain)")
    events = sw.audit_log()
    ctx.table(
        ["seq", "at", "actor", "action", "subject", "after"],
        [(e.seq, e.at[11:23], e.actor, e.action, e.subject, summarize(e.after)) for e in events],
    )
    report = sw.verify_audit()
    ctx.console.print(f"audit verify: {'ok' if report.ok else report.problem}, {report.checked} events")
