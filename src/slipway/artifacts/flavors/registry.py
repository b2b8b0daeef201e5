"""The flavors slipway knows, and how a model object is matched to one."""

from __future__ import annotations

from slipway.artifacts.flavors.base import Flavor
from slipway.artifacts.flavors.lightgbm import LightGBMFlavor
from slipway.artifacts.flavors.onnx import OnnxFlavor
from slipway.artifacts.flavors.pickle import REFUSED, PickleFlavor
from slipway.artifacts.flavors.python import PythonFlavor
from slipway.artifacts.flavors.sklearn import SklearnFlavor
from slipway.artifacts.flavors.xgboost import XGBoostFlavor
from slipway.core.errors import InvalidInputError, UntrustedContentError

# Order matters: the first flavor that accepts a model wins; pickle is the explicit last resort.
_ORDERED: tuple[Flavor, ...] = (
    OnnxFlavor(),
    XGBoostFlavor(),
    LightGBMFlavor(),
    SklearnFlavor(),
    PythonFlavor(),
    PickleFlavor(),
)
FLAVORS: dict[str, Flavor] = {flavor.name: flavor for flavor in _ORDERED}


def get_flavor(name: str) -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise InvalidInputError(f"unknown model flavor {name!r}; known: {', '.join(FLAVORS)}") from None


def detect_flavor(model: object, *, trust_pickle: bool = False) -> Flavor:
    """The flavor that can save ``model`` without pickle, else pickle when explicitly trusted."""
    for flavor in FLAVORS.values():
        if flavor.name != "pickle" and flavor.accepts(model):
            return flavor
    if not FLAVORS["pickle"].accepts(model):
        raise InvalidInputError(
            f"unsupported model type {type(model).__module__}.{type(model).__qualname__}: slipway "
            "packages scikit-learn estimators, XGBoost, LightGBM, ONNX models, and python classes "
            "with save/load/predict (see the python flavor)"
        )
    if not trust_pickle:
        raise UntrustedContentError(REFUSED.format(what=f"a {type(model).__qualname__}"))
    return FLAVORS["pickle"]
