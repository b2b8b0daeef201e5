"""``slipway build``: package a model file into an artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from slipway.artifacts.model_files import read_model_file
from slipway.artifacts.packing import pack_artifact
from slipway.cli.context import slipway
from slipway.cli.output import console, describe_runtime
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.core.model import TrustOptions
from slipway.guards.step import describe_guards


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _read_mapping(path: Path | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    if not path.is_file():
        raise NotFoundError(f"{what} file {str(path)!r} does not exist")
    try:
        value = (
            yaml.safe_load(path.read_text(encoding="utf-8"))
            if path.suffix in {".yaml", ".yml"}
            else json.loads(path.read_text())
        )
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            f"{what} file {str(path)!r} is not valid {path.suffix[1:].upper()}: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise InvalidInputError(f"{what} file {str(path)!r} must hold a mapping of names to values")
    return value


@click.command("build")
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Model name (letters, digits, '.', '_', '-').")
@click.option("--train", type=click.Path(path_type=Path), help="Training data (.parquet or .csv), profiled.")
@click.option("--target", help="Target column in the training data.")
@click.option("--features", multiple=True, help="Feature columns, comma-separated [all but target/excluded].")
@click.option("--exclude", multiple=True, help="Columns that are not features (e.g. a sensitive attribute).")
@click.option("--validation", type=click.Path(path_type=Path), help="Validation data (.parquet or .csv).")
@click.option("--task", type=click.Choice(["classification", "regression"]), help="Model task [inferred].")
@click.option("--classes", multiple=True, help="Class labels, for formats that do not record them.")
@click.option("--flavor", help="Model format, if the file suffix does not tell.")
@click.option("--params", type=click.Path(path_type=Path), help="Hyperparameters/config (.json or .yaml).")
@click.option("--code", multiple=True, type=click.Path(path_type=Path), help="Code file or folder to bundle.")
@click.option(
    "--requirement", "requirements", multiple=True, help="Extra package the model needs at run time."
)
@click.option("--model-card", type=click.Path(path_type=Path), help="Model card: .md file, or .yaml fields.")
@click.option(
    "--tests", type=click.Path(path_type=Path), help="Folder with the validation plan and its data."
)
@click.option(
    "--lookups", type=click.Path(path_type=Path), help="Enrichment lookups the model needs (.yaml or .json)."
)
@click.option(
    "--guards",
    type=click.Path(path_type=Path),
    help="Runtime guards to fit (.yaml or .json); 'none' for no guards [domain, anomaly, output, conformal].",
)
@click.option(
    "--no-compile", is_flag=True, help="Do not compile the model to ONNX (the native model always serves)."
)
@click.option("--embed-data", is_flag=True, help="Copy the training/validation data into the artifact.")
@click.option("--trust-pickle", is_flag=True, help="Accept a pickle/joblib model file (runs code on load!).")
@click.option("--trust-type", "trust_types", multiple=True, help="Extra type a .skops file may hold.")
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Artifact folder [HOME/builds/NAME-DIGEST]."
)
@click.option("--pack", type=click.Path(path_type=Path), help="Also write the artifact as this .tar.gz.")
@click.option("--register", "and_register", is_flag=True, help="Register the artifact after building it.")
def build(
    model_file: Path,
    name: str,
    train: Path | None,
    target: str | None,
    features: tuple[str, ...],
    exclude: tuple[str, ...],
    validation: Path | None,
    task: str | None,
    classes: tuple[str, ...],
    flavor: str | None,
    params: Path | None,
    code: tuple[Path, ...],
    requirements: tuple[str, ...],
    model_card: Path | None,
    tests: Path | None,
    lookups: Path | None,
    guards: Path | None,
    no_compile: bool,
    embed_data: bool,
    trust_pickle: bool,
    trust_types: tuple[str, ...],
    output: Path | None,
    pack: Path | None,
    and_register: bool,
) -> None:
    """Package MODEL_FILE (.skops, .onnx, XGBoost .json/.ubj, LightGBM .txt, or trusted .pkl)."""
    trust = TrustOptions(pickle=trust_pickle, skops_types=trust_types)
    model = read_model_file(model_file, flavor=flavor, task=task, trust=trust)
    card: Any = model_card
    if model_card is not None and model_card.suffix in {".yaml", ".yml", ".json"}:
        card = _read_mapping(model_card, "model card")
    built = slipway().build(
        model,
        name=name,
        output=output,
        train=train,
        target=target,
        features=_split(features) or None,
        exclude=_split(exclude),
        validation=validation,
        task=task,
        classes=_split(classes) or None,
        params=_read_mapping(params, "params"),
        code=code,
        requirements=requirements,
        model_card=card,
        tests=tests,
        embed_data=embed_data,
        trust_pickle=trust_pickle,
        lookups=lookups,
        guards=_guards(guards),
        compile=not no_compile,
    )
    console.print(f"built {built.manifest.name} ({built.manifest.model.flavor}) -> {built.path}")
    runtime = built.manifest.sections.get("runtime")
    if runtime is not None:
        console.print(f"runtime {describe_runtime(runtime)}")
    guarded = built.manifest.sections.get("guards")
    if guarded is not None:
        console.print(f"guards {describe_guards(guarded)}")
    console.print(f"digest {built.digest}")
    if pack is not None:
        pack_artifact(built.path, pack)
        console.print(f"packed -> {pack}")
    if and_register:
        record = slipway().register(built)
        console.print(f"registered {record.ref}")


def _guards(path: Path | None) -> Path | bool | None:
    if path is None:
        return None
    if str(path) == "none":
        return False
    return path


def install(cli: click.Group) -> None:
    cli.add_command(build)
