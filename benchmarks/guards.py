"""Scoring with all runtime guards on vs guards off, through slipway's Scorer: 1 row and 100,000 rows.

Both examples are built with the compile step and ALL guards: domain, anomaly, conformal
(calibrated on a validation split) and output checks (regression bounds; a certainty threshold
for the classifier). The same artifact is then scored with ``guard_stages(artifact)`` and with
no stages, on its verified ONNX runtime (what the server and batch engines use), in the same
process:

* one row: ``Scorer.score_records([record])``, median per call over CALLS calls, one model thread;
* 100,000 rows: ``Scorer.score_frame(frame)`` of rows drawn from the held-out data (a few of
  them out of domain, so flags are produced), median over REPEATS runs.

The goal is a ratio (guards on / guards off) of at most 1.2 at 100,000 rows. The machine has 2
cores shared with other work: compare the ratios of one run rather than absolute figures.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from statistics import median

import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks._timing import once, per_call
from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.examples import apartments, credit
from slipway.guards.stages import guard_stages
from slipway.guards.step import GuardsStep
from slipway.runtimes.compile import OnnxCompileStep
from slipway.runtimes.selection import compiled_runtime
from slipway.scoring.scorer import Scorer

REPEATS = 5
CALLS = 300
BIG = 100_000


def cases(folder: Path) -> list[tuple[str, LoadedArtifact, pd.DataFrame]]:
    flats = apartments.enrich(apartments.generate(20_000))
    train, validation, holdout = apartments.split(flats)
    loans = credit.generate(20_000)
    ltrain, lvalidation, lholdout = credit.split(loans)
    built = [
        (
            "apartments HGB regressor",
            apartments.train(train),
            BuildSpec(
                name="apartments",
                train=train,
                validation=validation,
                target="price",
                features=apartments.FEATURES,
            ),
            {"conformal": {"coverage": 0.9}},
            holdout,
            "surface",
        ),
        (
            "credit one-hot + HGB classifier",
            credit.train(ltrain),
            BuildSpec(
                name="credit", train=ltrain, validation=lvalidation, target="default", exclude=["gender"]
            ),
            {"conformal": {"coverage": 0.9}, "output": {"min_certainty": 0.6}},
            lholdout,
            "income",
        ),
    ]
    result = []
    for label, model, spec, guards, rows, column in built:
        steps = [GuardsStep(guards), OnnxCompileStep()]
        artifact = build_artifact(model, spec, output=folder / spec.name, steps=steps)
        if not artifact.manifest.sections["runtime"]["verified"]:
            raise SystemExit(f"{label}: no verified compiled runtime")
        big = rows.sample(n=BIG, replace=True, random_state=1).reset_index(drop=True)
        big.loc[big.index[::500], column] = big[column].max() * 10  # 0.2% out of domain
        result.append((label, load_artifact(artifact.path), big))
    return result


def measure(label: str, artifact: LoadedArtifact, big: pd.DataFrame) -> list[str]:
    runtime = compiled_runtime(artifact)
    plain = Scorer(artifact, runtime=runtime)
    guarded = Scorer(artifact, runtime=runtime, stages=guard_stages(artifact))
    record = big[list(plain.input_columns)].head(1).to_dict("records")
    with threadpool_limits(limits=1):
        one_off = median(per_call(lambda: plain.score_records(record), CALLS) for _ in range(3))
        one_on = median(per_call(lambda: guarded.score_records(record), CALLS) for _ in range(3))
    big_off = median(once(lambda: plain.score_frame(big)) for _ in range(REPEATS))
    big_on = median(once(lambda: guarded.score_frame(big)) for _ in range(REPEATS))
    flagged = int(guarded.score_frame(big).flagged.sum())
    return [
        f"{label}: {flagged:,} of {BIG:,} rows flagged",
        f"  1 row       guards off {one_off * 1e6:8.0f} µs   on {one_on * 1e6:8.0f} µs   "
        f"ratio {one_on / one_off:5.2f}",
        f"  100k rows   guards off {big_off * 1e3:8.0f} ms   on {big_on * 1e3:8.0f} ms   "
        f"ratio {big_on / big_off:5.2f}   (goal <= 1.2)",
    ]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="slipway-bench-guards-") as scratch:
        for label, artifact, big in cases(Path(scratch)):
            for line in measure(label, artifact, big):
                print(line, flush=True)


if __name__ == "__main__":
    main()
