"""Batch scoring throughput on 1,000,000 rows of the credit example (8 features, a scikit-learn
pipeline: one-hot encoding + HistGradientBoostingClassifier), in rows per second, end to end
(read Parquet, score, write Parquet):

| contender | what |
|---|---|
| pandas + scikit-learn | the floor: ``ParquetFile.iter_batches`` in 100k chunks, ``predict_proba``, write |
| slipway local | ``Slipway.score`` on the local engine (2 workers), guards off |
| slipway local + range check | the same with a per-feature range check against the training profile |
| slipway spark | ``Slipway.score`` on the Spark engine, ``local[2]`` |
| mlflow spark_udf | MLflow's ``spark_udf`` on the same model and Spark session |

The range check stands in for the runtime guards (``slipway.guards``) until they are merged: it
flags every value outside the training range, as the domain guard does. Timings of slipway
include starting the worker processes, loading and verifying the artifact, hashing the input for
its fingerprint and recording the run. Spark's start is excluded for both Spark contenders.

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
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from slipway.api import Slipway
from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import LoadedArtifact
from slipway.core.flags import Flag
from slipway.core.settings import Settings
from slipway.examples import credit
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Scorer

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "bench-output" / "batch"
MLFLOW_LIB = ROOT / "bench-output" / "mlflow-lib"
CHUNK_ROWS = 100_000


class RangeCheck:
    """Flags numeric values outside the training range (what the domain guard does)."""

    name = "range_check"
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, bounds: dict[str, tuple[float, float]]) -> None:
        self.bounds = bounds

    def apply(self, batch: Batch) -> None:
        for feature, (low, high) in self.bounds.items():
            values = batch.columns[feature]
            outside = np.flatnonzero((values < low) | (values > high))
            for row in outside.tolist():
                value = float(values[row])
                batch.flag(
                    row,
                    Flag(
                        "range",
                        "out_of_range",
                        f"{feature} outside the training range",
                        feature=feature,
                        value=value,
                        detail={"minimum": low, "maximum": high},
                    ),
                )


def range_checked_scorer(artifact: LoadedArtifact) -> Scorer:
    profile = artifact.profile
    assert profile is not None
    bounds = {
        f.name: (float(f.minimum), float(f.maximum))
        for f in profile.features
        if f.is_numeric and f.minimum is not None and f.maximum is not None
    }
    return Scorer(artifact, stages=(RangeCheck(bounds),))


def prepare(rows: int) -> tuple[Path, Any, Path]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    source = OUTPUT / f"credit-{rows}.parquet"
    if not source.exists():
        frame = credit.generate(rows, seed=2026)
        frame.to_parquet(source, index=False, row_group_size=CHUNK_ROWS)
    train, validation, _ = credit.split(credit.generate())
    model = credit.train(train)
    spec = BuildSpec(
        name="credit", train=train, validation=validation, target=credit.TARGET, exclude=[credit.SENSITIVE]
    )
    artifact = OUTPUT / "artifact"
    shutil.rmtree(artifact, ignore_errors=True)
    build_artifact(model, spec, output=artifact)
    return source, model, artifact


def pandas_floor(model: Any, source: Path, output: Path) -> None:
    schema = pa.schema([("prediction", pa.int64()), ("p0", pa.float64()), ("p1", pa.float64())])
    with pq.ParquetWriter(output, schema) as writer:
        for batch in pq.ParquetFile(source).iter_batches(
            batch_size=CHUNK_ROWS, columns=list(credit.FEATURES)
        ):
            proba = model.predict_proba(batch.to_pandas())
            labels = model.classes_[proba.argmax(axis=1)]
            writer.write_table(
                pa.table({"prediction": labels, "p0": proba[:, 0], "p1": proba[:, 1]}, schema=schema)
            )


def timed_round(contenders: dict[str, Callable[[Path], object]], rows: int, attempt: int) -> dict[str, float]:
    """One run of every contender, one after the other; rows/s of each."""
    rates = {}
    for name, run in contenders.items():
        output = OUTPUT / f"out-{attempt}"
        _remove(output)
        started = time.perf_counter()
        run(output)
        rates[name] = rows / (time.perf_counter() - started)
        _remove(output)
        print(f"  round {attempt + 1}: {name:<30} {rates[name]:>10,.0f} rows/s", flush=True)
    return rates


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


def mlflow_udf(spark: Any, model: Any, source: Path) -> Callable[[Path], object] | None:
    try:
        import mlflow.pyfunc
        import mlflow.sklearn
    except ImportError as exc:
        print(f"  mlflow spark_udf: skipped, mlflow is not importable ({exc}); see this module's docstring")
        return None
    os.environ.setdefault("MLFLOW_TRACKING_URI", (OUTPUT / "mlruns").as_uri())
    saved = OUTPUT / "mlflow-model"
    shutil.rmtree(saved, ignore_errors=True)
    from mlflow.models import infer_signature

    sample = credit.generate(200)[list(credit.FEATURES)]
    signature = infer_signature(sample, model.predict(sample))  # so spark_udf passes columns by name
    mlflow.sklearn.save_model(model, str(saved), serialization_format="cloudpickle", signature=signature)
    udf = mlflow.pyfunc.spark_udf(spark, str(saved), result_type="long", env_manager="local")
    frame = spark.read.parquet(str(source))

    def run(output: Path) -> None:
        frame.withColumn("prediction", udf(*credit.FEATURES)).write.parquet(str(output))

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks batch")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    options = parser.parse_args([] if argv is None else argv)
    rows = options.rows
    print(
        f"batch scoring: {rows:,} rows of the credit example, medians of {options.repeat} rounds", flush=True
    )
    source, model, artifact = prepare(rows)
    sw = Slipway(Settings.from_env({}, home=OUTPUT / "home", actor="bench"))

    def local(factory: Any = None) -> Callable[[Path], object]:
        extra = {"scorer_factory": factory} if factory else {}
        return lambda out: sw.score(artifact, source, out, chunk_rows=CHUNK_ROWS, workers=2, **extra)

    contenders: dict[str, Callable[[Path], object]] = {
        "pandas + scikit-learn": lambda out: pandas_floor(model, source, out),
        "slipway local": local(),
        "slipway local + range check": local(range_checked_scorer),
    }
    spark = None
    if not options.no_spark:
        spark = spark_session()
        contenders["slipway spark local[2]"] = lambda out: sw.score(
            artifact, source, out, engine="spark", chunk_rows=CHUNK_ROWS
        )
        udf = mlflow_udf(spark, model, source)
        if udf is not None:
            contenders["mlflow spark_udf local[2]"] = udf
    # Rounds of every contender in turn, so a change in the machine's load hits them all alike.
    rounds = [timed_round(contenders, rows, attempt) for attempt in range(options.repeat)]
    if spark is not None:
        spark.stop()
    sw.close()
    report({name: [r[name] for r in rounds] for name in contenders})


def report(results: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    floor = medians["pandas + scikit-learn"]
    udf = medians.get("mlflow spark_udf local[2]")
    print()
    print(f"| {'contender':<30} | {'rows/s (median)':>15} | {'vs pandas floor':>15} | {'vs spark_udf':>12} |")
    print(f"|{'-' * 32}|{'-' * 17}:|{'-' * 17}:|{'-' * 14}:|")
    for name, median in medians.items():
        versus_udf = f"{median / udf:.2f}x" if udf else "-"
        print(f"| {name:<30} | {median:>15,.0f} | {median / floor:>14.2f}x | {versus_udf:>12} |")
    local = medians["slipway local"] / floor
    print(f"\ngoal: slipway local (guards off) >= 0.8x the floor: {local:.2f}x -> {_verdict(local >= 0.8)}")
    if udf and "slipway spark local[2]" in medians:
        ratio = medians["slipway spark local[2]"] / udf
        print(f"goal: slipway spark >= 2x mlflow spark_udf: {ratio:.2f}x -> {_verdict(ratio >= 2)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":  # python -m benchmarks.batch --rows 200000 --repeat 5
    main(sys.argv[1:])
