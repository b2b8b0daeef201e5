"""The gate's wall time on the apartments example with 100,000 rows, against plain ``model.predict``.

Two plans, both the shipped apartments plan with a 100,000-row base_case:

- ``full``: every derived scenario (missing values, extreme values, wrong types, duplicated rows,
  ...) also on all 100,000 rows: 19 datasets, 1.7 million rows scored;
- ``default``: derived scenarios at their default sample of 500 rows each.

The baseline is ``model.predict`` on the same 100,000 rows, in the same process, on one thread
(the gate limits native thread pools to one; the multi-threaded figure is printed too). Each
figure is the median of RUNS runs; the machine has 2 cores shared with other work, so expect noise.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from threadpoolctl import threadpool_limits

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import load_artifact
from slipway.examples import apartments
from slipway.examples.plans import plan_file
from slipway.validation.gate import run_gate
from slipway.validation.plan_files import PlanSource, parse_plan

ROWS = 100_000
RUNS = 3


def _plan(base: Any, *, derived_rows: int | None) -> dict[str, Any]:
    plan = yaml.safe_load(plan_file("apartments").read_text())
    plan["scenarios"]["base_case"] = {**plan["scenarios"]["base_case"], "data": base}
    plan["scenarios"]["base_case"].pop("file")
    for name, spec in plan["scenarios"].items():
        if (
            name
            in (
                "missing_values",
                "extreme_values",
                "unseen_categories",
                "wrong_types",
                "duplicated_rows",
                "empty_strings",
            )
            and derived_rows is not None
        ):
            plan["scenarios"][name] = {**(spec or {}), "rows": derived_rows}
    return plan


def _median(function: Any, runs: int) -> float:
    timings = []
    for _ in range(runs):
        begin = time.perf_counter()
        function()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings)


def main() -> None:
    prices = apartments.zip_prices()
    train = apartments.enrich(apartments.generate(5_000, seed=42), prices)
    base = apartments.enrich(apartments.generate(ROWS, seed=7), prices)
    model = apartments.train(train, max_iter=100)
    features = base[list(apartments.FEATURES)]
    with tempfile.TemporaryDirectory() as folder:
        spec = BuildSpec(name="apartments", train=train, target="price", features=apartments.FEATURES)
        artifact = load_artifact(build_artifact(model, spec, output=Path(folder) / "a").path)
        with threadpool_limits(limits=1):
            predict_one_thread = _median(lambda: model.predict(features), 5)
        predict_threads = _median(lambda: model.predict(features), 5)
        print(
            f"model.predict on {ROWS:,} rows: {predict_one_thread:.3f} s on one thread, "
            f"{predict_threads:.3f} s with native threads (median of 5)"
        )
        print(f"{'plan':<8} {'scenarios':>9} {'rows scored':>12} {'gate s':>8} {'ratio':>7}   runs (s)")
        for label, derived_rows in (("default", None), ("full", ROWS)):
            source = PlanSource(parse_plan(_plan(base, derived_rows=derived_rows)), None, "benchmark")
            timings, report = [], None
            for _ in range(RUNS):
                begin = time.perf_counter()
                report = run_gate(artifact, source)
                timings.append(time.perf_counter() - begin)
            assert report is not None
            rows = sum(s.rows for s in report.scenarios if s.kind not in ("stability", "robustness"))
            median = statistics.median(timings)
            shown = ", ".join(f"{t:.1f}" for t in timings)
            ratio = median / predict_one_thread
            print(
                f"{label:<8} {len(report.scenarios):>9} {rows:>12,} {median:>8.1f} {ratio:>7.0f}x  "
                f"[{shown}]  verdict {report.verdict}"
            )
