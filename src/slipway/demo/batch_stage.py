"""Demo stage: batch-score a generated file of apartments with apartments@champion, locally."""

from __future__ import annotations

import os

import numpy as np
import pyarrow.parquet as pq

from slipway.batch.progress import RichProgress
from slipway.demo.context import DemoContext
from slipway.examples import apartments

ROWS = 100_000


def score_file(ctx: DemoContext) -> None:
    sw = ctx.slipway
    ctx.heading("Batch scoring: a file of apartments, in parts, on worker processes")
    flats = apartments.generate(ROWS, seed=2026).drop(columns=[apartments.TARGET])
    flats.insert(0, "apartment_id", np.arange(ROWS, dtype=np.int64))
    if "zip_db_url" in ctx.state:  # the champion declares the zip lookup: batch runs it as a join
        os.environ[apartments.ZIP_DB_URL_ENV] = ctx.state["zip_db_url"]
    else:
        flats = apartments.enrich(flats)
    source = ctx.data_dir / "apartments_to_score.parquet"
    flats.to_parquet(source, index=False, row_group_size=20_000)
    output = ctx.home / "scored" / "apartments"
    output.parent.mkdir(parents=True, exist_ok=True)
    result = sw.score(
        "apartments@champion",
        source,
        output,
        chunk_rows=20_000,
        workers=2,
        progress=RichProgress(console=ctx.console),
    )
    record, outcome = result.record, result.outcome
    ctx.console.print(
        f"scored {record.rows_in:,} rows with {record.subject} in {record.duration_s:.1f} s "
        f"({record.rows_in / record.duration_s:,.0f} rows/s, {outcome.parts} parts, 2 workers); "
        f"flagged {record.rows_flagged}, rejected {record.rows_rejected}"
    )
    ctx.console.print(f"output {output} (digest {(record.output_digest or '')[:12]}), run {record.run_id}")
    columns = ["apartment_id", "zip_code", "prediction", "flags", "model_version"]
    head = pq.read_table(output, columns=columns)
    ctx.table(
        ["apartment_id", "zip_code", "predicted price", "flags", "version"],
        [
            (
                row["apartment_id"],
                row["zip_code"],
                f"{row['prediction']:,.0f}",
                row["flags"],
                row["model_version"],
            )
            for row in head.slice(0, 5).to_pylist()
        ],
        title="first scored rows",
    )
    event = sw.audit_log("apartments")[-1]
    ctx.console.print(f"on the record: {event.action} {event.subject} (audit event {event.seq})")
