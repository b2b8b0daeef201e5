"""Read a trained model saved by the user as a file, for ``slipway build MODEL_FILE``.

The format is told by the file's suffix (or ``--flavor``). Files that would run code when read
(pickle, joblib) are read only with explicit trust; skops files only hold trusted types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slipway.artifacts.flavors.pickle import REFUSED
from slipway.artifacts.flavors.sklearn import is_trusted_type
from slipway.core.errors import InvalidInputError, NotFoundError, UntrustedContentError
from slipway.core.model import TrustOptions

_BY_SUFFIX = {
    ".onnx": "onnx",
    ".skops": "sklearn",
    ".ubj": "xgboost",
    ".json": "xgboost",
    ".txt": "lightgbm",
    ".lgb": "lightgbm",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
}


def read_model_file(path: Path, *, flavor: str | None, task: str | None, trust: TrustOptions) -> Any:
    if not path.is_file():
        raise NotFoundError(f"model file {str(path)!r} does not exist")
    kind = flavor or _BY_SUFFIX.get(path.suffix)
    if kind is None:
        raise InvalidInputError(
            f"cannot tell the format of model file {path.name!r}; use a known suffix "
            f"({', '.join(sorted(_BY_SUFFIX))}) or pass --flavor"
        )
    reader = {
        "onnx": lambda: path,
        "sklearn": lambda: _read_skops(path, trust),
        "xgboost": lambda: _read_xgboost(path, task),
        "lightgbm": lambda: _read_lightgbm(path),
        "pickle": lambda: _read_pickle(path, trust),
    }.get(kind)
    if reader is None:
        raise InvalidInputError(f"flavor {kind!r} cannot be read from a file; use the Python API")
    return reader()


def _read_skops(path: Path, trust: TrustOptions) -> Any:
    import skops.io as sio

    found = sio.get_untrusted_types(file=path)
    refused = [name for name in found if not is_trusted_type(name, extra=trust.skops_types)]
    if refused:
        raise UntrustedContentError(
            f"{path.name} holds types outside slipway's trusted list: {', '.join(sorted(refused))}; "
            "pass --trust-type NAME for each one you trust"
        )
    return sio.load(path, trusted=found)


def _read_xgboost(path: Path, task: str | None) -> Any:
    import xgboost

    if task not in ("classification", "regression"):
        raise InvalidInputError("an XGBoost model file needs --task classification or --task regression")
    model = xgboost.XGBClassifier() if task == "classification" else xgboost.XGBRegressor()
    try:
        model.load_model(str(path))
    except xgboost.core.XGBoostError as exc:
        raise InvalidInputError(f"{path.name} is not a readable XGBoost model: {exc}") from exc
    return model


def _read_lightgbm(path: Path) -> Any:
    import lightgbm

    try:
        return lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as exc:
        raise InvalidInputError(f"{path.name} is not a readable LightGBM model: {exc}") from exc


def _read_pickle(path: Path, trust: TrustOptions) -> Any:
    if not trust.pickle:
        raise UntrustedContentError(REFUSED.format(what=path.name))
    import joblib

    return joblib.load(path)  # trust checked above; joblib also reads plain pickles
