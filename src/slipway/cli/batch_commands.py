"""``slipway score`` (batch scoring) and ``slipway runs`` (the recorded batch runs)."""

from __future__ import annotations

import sys

import click

from slipway.batch.engine import DEFAULT_CHUNK_ROWS, BatchResult
from slipway.cli.context import slipway
from slipway.cli.output import console, print_json, print_table


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@click.command("score")
@click.argument("model_ref", metavar="MODEL_REF")
@click.argument("input_location", metavar="INPUT")
@click.argument("output", metavar="OUTPUT")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True)
@click.option("--query", help="SQL query whose rows are scored (INPUT is then a database URL).")
@click.option(
    "--keep", multiple=True, help="Input columns copied to the output, comma-separated [non-features]."
)
@click.option("--keep-none", is_flag=True, help="Copy no input column to the output.")
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_CHUNK_ROWS,
    show_default=True,
    help="Rows per part (local engine): memory follows this, not the input size.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Worker processes besides this one, which scores too (local) [one per core but one].",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    help="Spark partitions [Parquet: about a task per row group; else as Spark reads the input].",
)
@click.option("--master", help="Spark master URL [local[*]].")
@click.option("--resume", is_flag=True, help="Finish a killed or failed local run, skipping committed parts.")
@click.option(
    "--overwrite", is_flag=True, help="Replace OUTPUT if it exists (once the new result is complete)."
)
@click.option("--trust-pickle", is_flag=True, help="Accept a pickle model (runs code on load!).")
@click.option("--no-guards", is_flag=True, help="Score without the artifact's runtime guards.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.option(
    "--progress/--no-progress", default=None, help="Show a progress bar [when stderr is a terminal]."
)
def score(
    model_ref: str,
    input_location: str,
    output: str,
    engine: str,
    query: str | None,
    keep: tuple[str, ...],
    keep_none: bool,
    chunk_rows: int,
    workers: int | None,
    partitions: int | None,
    master: str | None,
    resume: bool,
    overwrite: bool,
    trust_pickle: bool,
    no_guards: bool,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Score every row of INPUT with MODEL_REF and write Parquet parts to the folder OUTPUT.

    MODEL_REF is NAME:VERSION, NAME@ALIAS or an artifact path. INPUT is a Parquet file or
    folder, a CSV file, or a database URL with --query. The run is recorded in the registry.
    """
    result = slipway().score(
        model_ref,
        input_location,
        output,
        engine=engine,
        query=query,
        keep=() if keep_none else (_split(keep) or None),
        chunk_rows=chunk_rows,
        workers=workers,
        partitions=partitions,
        master=master,
        resume=resume,
        overwrite=overwrite,
        progress=sys.stderr.isatty() if progress is None else progress,
        trust_pickle=trust_pickle,
        guards=not no_guards,
    )
    if as_json:
        print_json({**result.record.to_dict(), "outcome": result.outcome.to_dict()})
        return
    _print_summary(result)


def _print_summary(result: BatchResult) -> None:
    record, outcome = result.record, result.outcome
    version = f"{record.model}:{record.version}" if record.version is not None else record.model
    rate = record.rows_in / record.duration_s if record.duration_s else 0.0
    console.print(f"scored {record.rows_in:,} rows with {version} ({record.digest[:12]}) on {record.engine}")
    console.print(
        f"flagged {record.rows_flagged:,}  rejected {record.rows_rejected:,}  "
        f"in {record.duration_s:.1f} s ({rate:,.0f} rows/s)"
        + (f"  resumed {outcome.parts_resumed} of {outcome.parts} parts" if outcome.parts_resumed else "")
    )
    console.print(f"output  {record.output}  digest {record.output_digest}")
    console.print(f"run     {record.run_id}  (slipway runs {record.model})")


@click.command("runs")
@click.argument("model", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def runs(model: str | None, limit: int, as_json: bool) -> None:
    """List recorded batch scoring runs, all or those of MODEL, newest first."""
    found = slipway().batch_runs(model, limit=limit)
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    print_table(
        "batch runs" + (f" of {model}" if model else ""),
        ["run", "finished", "model", "engine", "status", "rows", "flagged", "rejected", "s", "output"],
        [
            (
                r.run_id[:12],
                r.finished_at[:19],
                r.subject,
                r.engine,
                r.status,
                r.rows_in,
                r.rows_flagged,
                r.rows_rejected,
                f"{r.duration_s:.1f}",
                r.output if r.error is None else f"error: {r.error[:60]}",
            )
            for r in found
        ],
    )


def install(cli: click.Group) -> None:
    cli.add_command(score)
    cli.add_command(runs)
