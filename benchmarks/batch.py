"""Batch scoring throughput on 1,000,000 rows, in rows per second, end to end (read Parquet,
score, write Parquet). Two models (``--model``):

* ``wide`` (default): FACTS.md's HistGradientBoostingClassifier on 30 float features;
* ``credit``: the credit example (8 features, a scikit-learn pipeline: one-hot + HGB).

slipway's artifact is built as ``slipway build`` builds it: compiled to ONNX when its parity with
scikit-learn is verified (``--no-compile`` scores the native model).

| contender | what |
|---|---|
| pandas + scikit-learn | the floor: ``ParquetFile.iter_batches`` in 100k chunks, ``predict_proba``, write |
| pandas + onnxruntime | the same loop with the artifact's verified ONNX model (context) |
| slipway local | ``Slipway.score`` on the local engine (default workers), guards off |
| slipway local + guards | the same with the artifact's default runtime guards (``slipway.guards``: domain, |
| | anomaly, conformal interval/set, output), fitted by ``slipway build`` |
| spark read+write | ``spark.read.parquet(...).write.parquet(...)``: Spark's own floor (context) |
| slipway spark | ``Slipway.score`` on the Spark engine, ``local[2]``, guards off (as ``spark_udf``); |
| | its Python tasks read the Parquet row groups themselves (``BatchOutcome.reader``) |
| slipway spark + guards | the same with the default guards |
| mlflow spark_udf | MLflow's ``spark_udf`` on the same model and Spark session, writing its |
| | prediction column only (no input columns, like the other contenders) |

Timings of slipway
include starting the worker processes, loading and verifying the artifact, hashing the input for
its fingerprint and recording the run. Spark's start is excluded for every Spark contender, and so is
an untimed warm-up run of each Spark contender that runs Python, on 20,000 rows (``warm_up``): the
rows/s are those of Python workers that have imported their libraries and loaded their model.

MLflow is never a slipway dependency. To include its row, install it beside the project (in
the venv it would downgrade pyarrow)::

    .venv/bin/pip install --target bench-output/mlflow-lib mlflow==3.17.2

The benchmark then removes from that folder every distribution the venv already has (numpy,
pandas, pyarrow, scikit-learn, ...), so the driver and Spark's Python workers, which get the
folder on ``PYTHONPATH``, run MLflow on the same libraries as slipway.

Medians of ``--repeat`` runs (default 3); this machine has 2 cores shared with other work, so
expect noise and compare ratios from the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.ensemble import HistGradientBoostingClassifier

from slipway.adapters.batch_scorer import artifact_scorer
from slipway.api import Slipway
from slipway.artifacts.loader import load_artifact
from slipway.core.settings import Settings
from slipway.examples import credit
from slipway.runtimes.selection import compiled_runtime
from slipway.scoring.scorer import Scorer

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "bench-output" / "batch"
MLFLOW_LIB = ROOT / "bench-output" / "mlflow-lib"
CHUNK_ROWS = 100_000
FLOOR = "pandas + scikit-learn"
SPARK = "slipway spark local[2]"
SPARK_GUARDS = "slipway spark + guards"
UDF = "mlflow spark_udf local[2]"


@dataclass(frozen=True)
class Case:
    """A model to benchmark: its rows on disk, the fitted model, its artifact and features."""

    name: str
    source: Path
    model: Any
    artifact: Path
    features: tuple[str, ...]


def wide_frame(rows: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(rows, 30)), columns=[f"f{i:02d}" for i in range(30)])


def prepare(name: str, rows: int, sw: Slipway, *, compile: bool) -> Case:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    source = OUTPUT / f"{name}-{rows}.parquet"
    if name == "wide":
        train, validation = wide_frame(20_000, seed=0), wide_frame(5_000, seed=2)
        for frame, seed in ((train, 0), (validation, 2)):
            noise = np.random.default_rng(seed).normal(0, 0.5, len(frame))
            frame["y"] = (frame.f00 + frame.f01 * frame.f02 + noise > 0).astype(np.int64)
        features = tuple(c for c in train.columns if c != "y")
        model = HistGradientBoostingClassifier(max_iter=100, random_state=0)
        model.fit(train[list(features)], train.y)
        build: dict[str, Any] = {"train": train, "validation": validation, "target": "y"}
        if not source.exists():
            wide_frame(rows, seed=1).to_parquet(source, index=False, row_group_size=CHUNK_ROWS)
    else:
        train, validation, _ = credit.split(credit.generate())
        features = credit.FEATURES
        model = credit.train(train)
        build = {
            "train": train,
            "validation": validation,
            "target": credit.TARGET,
            "exclude": [credit.SENSITIVE],
        }
        if not source.exists():
            credit.generate(rows, seed=2026).to_parquet(source, index=False, row_group_size=CHUNK_ROWS)
    artifact = OUTPUT / f"artifact-{name}"
    shutil.rmtree(artifact, ignore_errors=True)
    built = sw.build(model, name=name, output=artifact, compile=compile, **build)
    runtime = built.manifest.sections.get("runtime", {})
    guards = sorted(built.manifest.sections.get("guards", {}))
    print(f"  artifact {name}: compiled runtime verified: {runtime.get('verified', False)}; guards {guards}")
    return Case(name, source, model, artifact, tuple(features))


def pandas_floor(
    case: Case, output: Path, *, predict_proba: Callable[[Any], np.ndarray] | None = None
) -> None:
    """Read in 100k chunks, predict probabilities, write: scikit-learn, or the ONNX model given."""
    model = case.model
    schema = pa.schema([("prediction", pa.int64()), ("p0", pa.float64()), ("p1", pa.float64())])
    with pq.ParquetWriter(output, schema) as writer:
        for batch in pq.ParquetFile(case.source).iter_batches(
            batch_size=CHUNK_ROWS, columns=list(case.features)
        ):
            proba = predict_proba(batch) if predict_proba else model.predict_proba(batch.to_pandas())
            labels = model.classes_[proba.argmax(axis=1)]
            writer.write_table(
                pa.table({"prediction": labels, "p0": proba[:, 0], "p1": proba[:, 1]}, schema=schema)
            )


def onnx_predict_proba(case: Case) -> Callable[[Any], np.ndarray] | None:
    """The artifact's verified ONNX model fed from Arrow columns, on this process's threads."""
    artifact = load_artifact(case.artifact)
    runtime = compiled_runtime(artifact)
    if runtime is None:
        return None
    scorer = Scorer(artifact, runtime=runtime)

    def predict_proba(batch: pa.RecordBatch) -> np.ndarray:
        columns = {name: batch.column(name).to_numpy(zero_copy_only=False) for name in case.features}
        probabilities = runtime.predict(columns, scorer.features).probabilities
        assert probabilities is not None
        return probabilities

    return predict_proba


def timed_round(
    contenders: dict[str, Callable[..., object]],
    rows: int,
    attempt: int,
    *,
    before: Callable[[str], None] = lambda name: None,
) -> dict[str, float]:
    """One run of every contender, one after the other; rows/s of each (``before`` is untimed)."""
    rates = {}
    for name, run in contenders.items():
        output = OUTPUT / f"out-{attempt}"
        _remove(output)
        before(name)
        started = time.perf_counter()
        run(output)
        rates[name] = rows / (time.perf_counter() - started)
        _remove(output)
        print(f"  round {attempt + 1}: {name:<30} {rates[name]:>10,.0f} rows/s", flush=True)
    return rates


def warm_up(contenders: dict[str, Callable[..., object]], case: Case) -> Callable[[str], None]:
    """Before each Spark contender, an untimed run of it on 20,000 rows: every one is then timed on
    Python workers that have imported its libraries and loaded its model. Otherwise the order
    decides (Spark stops Python workers idle for a minute, and a contender inherits the imports
    of the one before it)."""
    small = OUTPUT / f"{case.name}-warm-up.parquet"
    if not small.exists():
        pq.write_table(pq.ParquetFile(case.source).read_row_group(0).slice(0, 20_000), small)

    def before(name: str) -> None:
        if name in (SPARK, SPARK_GUARDS, UDF) and name in contenders:
            output = OUTPUT / "warm-up"
            _remove(output)
            contenders[name](output, small)
            _remove(output)

    return before


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def prune_mlflow_lib() -> None:
    """Remove from MLFLOW_LIB the distributions the venv has, so both use the venv's versions."""
    import csv
    import importlib.metadata as metadata

    for info in sorted(MLFLOW_LIB.glob("*.dist-info")):
        name = info.name.split("-")[0]
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if str(MLFLOW_LIB) in str(metadata.distribution(name).locate_file("")):
            continue  # found in the folder itself, not in the venv
        record = info / "RECORD"
        rows = csv.reader(record.read_text().splitlines()) if record.is_file() else []
        for row in rows:  # only the files it installed: namespace folders (google/) are shared
            if row and not row[0].startswith(".."):
                (MLFLOW_LIB / row[0]).unlink(missing_ok=True)
        shutil.rmtree(info, ignore_errors=True)
        print(f"  mlflow-lib: using the venv's {name} instead of its own copy")


def spark_session() -> Any:
    if MLFLOW_LIB.is_dir():
        prune_mlflow_lib()
        sys.path.append(str(MLFLOW_LIB))  # last: the venv's own pyarrow and pandas win
    paths = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", ""), str(MLFLOW_LIB)]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("slipway-bench")
        .config("spark.ui.showConsoleProgress", "false")
        # Let Spark split the file by row group, so both cores work for every contender.
        .config("spark.sql.files.maxPartitionBytes", str(8 << 20))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def mlflow_udf(spark: Any, case: Case) -> Callable[..., object] | None:
    try:
        import mlflow.pyfunc
        import mlflow.sklearn
    except ImportError as exc:
        print(f"  mlflow spark_udf: skipped, mlflow is not importable ({exc}); see this module's docstring")
        return None
    os.environ.setdefault("MLFLOW_TRACKING_URI", (OUTPUT / "mlruns").as_uri())
    saved = OUTPUT / f"mlflow-model-{case.name}"
    shutil.rmtree(saved, ignore_errors=True)
    from mlflow.models import infer_signature

    sample = pq.read_table(case.source, columns=list(case.features)).slice(0, 200).to_pandas()
    signature = infer_signature(sample, case.model.predict(sample))  # so spark_udf passes columns by name
    mlflow.sklearn.save_model(case.model, str(saved), serialization_format="cloudpickle", signature=signature)
    udf = mlflow.pyfunc.spark_udf(spark, str(saved), result_type="long", env_manager="local")

    def run(output: Path, source: Path = case.source) -> None:
        # Only the prediction is written, as the floor and slipway write only their results:
        # with the 30 input columns beside it, spark_udf's write costs ~30% more.
        frame = spark.read.parquet(str(source))
        frame.select(udf(*case.features).alias("prediction")).write.parquet(str(output))

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks batch")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", choices=["wide", "credit"], default="wide")
    parser.add_argument("--no-compile", action="store_true", help="score the native model, not ONNX")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--only", nargs="*", help="only these contenders (names as printed)")
    options = parser.parse_args([] if argv is None else argv)
    rows = options.rows
    print(
        f"batch scoring: {rows:,} rows of the {options.model} example, medians of {options.repeat} rounds",
        flush=True,
    )
    sw = Slipway(Settings.from_env({}, home=OUTPUT / "home", actor="bench"))
    case = prepare(options.model, rows, sw, compile=not options.no_compile)
    source, artifact = case.source, case.artifact

    unguarded = partial(artifact_scorer, guards=False)

    def local(factory: Any) -> Callable[[Path], object]:
        return lambda out: sw.score(artifact, source, out, chunk_rows=CHUNK_ROWS, scorer_factory=factory)

    def on_spark(factory: Any) -> Callable[..., object]:
        return lambda out, rows_from=source: sw.score(
            artifact, rows_from, out, engine="spark", chunk_rows=CHUNK_ROWS, scorer_factory=factory
        )

    contenders: dict[str, Callable[..., object]] = {FLOOR: lambda out: pandas_floor(case, out)}
    onnx = onnx_predict_proba(case)
    if onnx is not None:
        contenders["pandas + onnxruntime"] = lambda out: pandas_floor(case, out, predict_proba=onnx)
    contenders["slipway local"] = local(unguarded)
    contenders["slipway local + guards"] = local(artifact_scorer)
    spark = None
    if not options.no_spark:
        spark = spark_session()
        contenders["spark read+write"] = lambda out: spark.read.parquet(str(source)).write.parquet(str(out))
        contenders[SPARK] = on_spark(unguarded)
        contenders[SPARK_GUARDS] = on_spark(artifact_scorer)
        udf = mlflow_udf(spark, case)
        if udf is not None:
            contenders[UDF] = udf
    if options.only:
        contenders = {name: run for name, run in contenders.items() if name in options.only or name == FLOOR}
    # Rounds of every contender in turn, so a change in the machine's load hits them all alike.
    before = warm_up(contenders, case) if spark is not None else (lambda name: None)
    rounds = [timed_round(contenders, rows, attempt, before=before) for attempt in range(options.repeat)]
    if spark is not None:
        spark.stop()
    sw.close()
    report({name: [r[name] for r in rounds] for name in contenders})


def report(results: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    floor = medians[FLOOR]
    udf = medians.get(UDF)
    print()
    print(f"| {'contender':<30} | {'rows/s (median)':>15} | {'vs pandas floor':>15} | {'vs spark_udf':>12} |")
    print(f"|{'-' * 32}|{'-' * 17}:|{'-' * 17}:|{'-' * 14}:|")
    for name, median in medians.items():
        versus_udf = f"{median / udf:.2f}x" if udf else "-"
        print(f"| {name:<30} | {median:>15,.0f} | {median / floor:>14.2f}x | {versus_udf:>12} |")
    if "slipway local" in medians:
        local = medians["slipway local"] / floor
        print(
            f"\ngoal: slipway local (guards off) >= 0.8x the floor: {local:.2f}x -> {_verdict(local >= 0.8)}"
        )
    if udf and SPARK in medians:
        ratio = medians[SPARK] / udf
        print(f"goal: slipway spark >= 2x mlflow spark_udf: {ratio:.2f}x -> {_verdict(ratio >= 2)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":  # python -m benchmarks.batch --rows 200000 --repeat 5
    main(sys.argv[1:])
