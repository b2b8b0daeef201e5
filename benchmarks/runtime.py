"""Native vs verified ONNX runtime, through slipway's Scorer: one row and 100,000 rows.

For each model the artifact is built with the compile step (parity verified), then scored
through ``Scorer`` with the native runtime and with the ONNX runtime, in the same process. For
context the raw floors are measured too: the model's own ``predict`` on a one-row DataFrame,
and ``onnxruntime`` ``session.run`` on ready-made tensors (no slipway at all).

* one row: ``Scorer.score_records([record])`` (a request's record, schema-checked), one model
  thread as a server worker runs; median per call over CALLS calls;
* 100,000 rows: ``Scorer.score_frame(frame)``, model threads = cores (``configure_threads``).

Each figure is the median of REPEATS runs. The machine has 2 cores shared with other work: read
the ratios, and compare runs, rather than trusting one absolute figure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from benchmarks._timing import once, per_call
from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.examples import apartments, credit
from slipway.runtimes.compile import OnnxCompileStep
from slipway.runtimes.selection import compiled_runtime
from slipway.runtimes.threads import configure_threads
from slipway.scoring.scorer import Scorer

REPEATS = 5
CALLS = 500
BIG = 100_000


def repeated(measure: Callable[[], float]) -> float:
    return median(measure() for _ in range(REPEATS))


def wide_classifier(rows: int) -> tuple[Any, pd.DataFrame, str]:
    """FACTS.md's model: HistGradientBoostingClassifier on 30 numeric features."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 30)), columns=[f"f{i:02d}" for i in range(30)])
    frame["y"] = (frame.f00 + frame.f01 * frame.f02 + rng.normal(0, 0.5, rows) > 0).astype(np.int64)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(frame.drop(columns="y"), frame.y)
    return model, frame, "y"


def cases(folder: Path) -> list[tuple[str, LoadedArtifact, pd.DataFrame]]:
    built = []
    flats = apartments.enrich(apartments.generate(20_000))
    model = apartments.train(flats)
    spec = BuildSpec(name="apartments", train=flats, target="price", features=apartments.FEATURES)
    built.append(("apartments HGB regressor, 5 features", model, spec, flats))
    loans = credit.generate(20_000)
    spec = BuildSpec(name="credit", train=loans, target="default", exclude=["gender"])
    built.append(("credit pipeline: one-hot + HGB classifier", credit.train(loans), spec, loans))
    model, frame, target = wide_classifier(20_000)
    spec = BuildSpec(name="wide", train=frame, target=target)
    built.append(("HGB classifier, 30 features", model, spec, frame))
    result = []
    for label, model, spec, frame in built:
        artifact = build_artifact(model, spec, output=folder / spec.name, steps=[OnnxCompileStep()])
        loaded = load_artifact(artifact.path)
        section = artifact.manifest.sections["runtime"]
        if not section["verified"]:
            raise SystemExit(f"{label}: no verified compiled runtime: {section['reason']}")
        big = frame.sample(n=BIG, replace=True, random_state=1).reset_index(drop=True)
        result.append((label, loaded, big))
    return result


def raw_floors(loaded: LoadedArtifact, frame: pd.DataFrame) -> tuple[float, float]:
    """Seconds per one-row call of the model's own predict (DataFrame) and of session.run."""
    row = frame[list(loaded.features)].head(1)
    estimator = loaded.runner.estimator  # type: ignore[attr-defined]
    predict = estimator.predict_proba if loaded.task == "classification" else estimator.predict
    runtime = compiled_runtime(loaded)
    assert runtime is not None
    columns = {name: row[name].to_numpy() for name in loaded.features}
    feeds = runtime.feeds(columns, loaded.features)  # type: ignore[attr-defined]
    session = runtime.session  # type: ignore[attr-defined]
    floor_predict = repeated(lambda: per_call(lambda: predict(row), CALLS))
    floor_run = repeated(lambda: per_call(lambda: session.run(None, feeds), CALLS))
    return floor_predict, floor_run


def measure(label: str, loaded: LoadedArtifact, big: pd.DataFrame) -> list[str]:
    native = Scorer(loaded)
    compiled = Scorer(loaded, runtime=compiled_runtime(loaded))
    record = big[list(native.input_columns)].head(1).to_dict("records")
    with threadpool_limits(limits=1):
        one_native = repeated(lambda: per_call(lambda: native.score_records(record), CALLS))
        one_onnx = repeated(lambda: per_call(lambda: compiled.score_records(record), CALLS))
        floor_predict, floor_run = raw_floors(loaded, big)
    many_native = repeated(lambda: once(lambda: native.score_frame(big)))
    many_onnx = repeated(lambda: once(lambda: compiled.score_frame(big)))
    return [
        f"{label:44} {1:>7} {one_native * 1e3:>8.3f}ms {one_onnx * 1e3:>8.3f}ms "
        f"{one_native / one_onnx:>10.1f}x {floor_predict * 1e3:>8.3f}ms {floor_run * 1e3:>9.3f}ms",
        f"{'':44} {BIG:>7} {BIG / many_native / 1e3:>6.0f}k/s {BIG / many_onnx / 1e3:>6.0f}k/s "
        f"{many_native / many_onnx:>10.1f}x",
    ]


def main() -> None:
    plan = configure_threads(workers=1)
    print(f"model threads for 100k rows: {plan.threads} (cores {plan.cores}); one thread for one row")
    print(f"median of {REPEATS} runs; one row = median of {CALLS} calls per run\n")
    header = (
        f"{'model':44} {'rows':>7} {'native':>10} {'onnx':>10} {'native/onnx':>11}"
        f" {'predict()':>10} {'session.run':>11}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="slipway-bench-") as scratch:
        for label, loaded, big in cases(Path(scratch)):
            print("\n".join(measure(label, loaded, big)), flush=True)
    print(
        "\nnative/onnx > 1: the compiled runtime is faster. predict() and session.run are the raw "
        "one-row floors without slipway (scikit-learn on a DataFrame; onnxruntime on ready tensors)."
    )


if __name__ == "__main__":
    main()
