"""`mlflow models serve --env-manager local` on the same model, from a venv of its own.

mlflow is never a slipway dependency: it is installed (``mlflow==3.17.2``, the version that
installs here) into ``bench-output/mlflow-venv`` the first time, and the model is re-created
there from the same seed (MLflow saves its own scikit-learn model with its own flavor).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MLFLOW = "mlflow==3.17.2"

SAVE_MODEL = """
import sys
import numpy as np, pandas as pd, mlflow.sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
rows = int(sys.argv[2])
rng = np.random.default_rng(0)
frame = pd.DataFrame(rng.normal(size=(rows, 30)), columns=[f"f{i:02d}" for i in range(30)])
frame["y"] = (frame.f00 + frame.f01 * frame.f02 + rng.normal(0, 0.5, rows) > 0).astype(np.int64)
model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(frame.drop(columns="y"), frame.y)
# MLflow 3.17 saves with skops and asks which types to trust; this is our own model
trusted = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
mlflow.sklearn.save_model(
    model, sys.argv[1], input_example=frame.drop(columns="y").head(2), skops_trusted_types=trusted
)
"""


def venv(output: Path) -> Path:
    folder = output / "mlflow-venv"
    python = folder / "bin" / "python"
    if not python.exists():
        print(f"installing {MLFLOW} into {folder} (once; never into slipway's environment)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import mlflow, sys; print(mlflow.__version__)"], capture_output=True, text=True
    )
    if probe.returncode != 0 or probe.stdout.strip() != MLFLOW.split("==")[1]:
        subprocess.run([str(python), "-m", "pip", "install", "-q", MLFLOW], check=True)
    return folder


def save_model(folder: Path, output: Path, rows: int) -> Path:
    model = output / "mlflow-model"
    if not model.exists():
        subprocess.run([str(folder / "bin" / "python"), "-c", SAVE_MODEL, str(model), str(rows)], check=True)
    return model


def command(folder: Path, model: Path, port: int) -> tuple[list[str], dict[str, str]]:
    # FACTS.md: `mlflow models serve` only starts when the venv's uvicorn is on PATH.
    env = {**os.environ, "PATH": f"{folder / 'bin'}:{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    args = [
        str(folder / "bin" / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    return args, env
