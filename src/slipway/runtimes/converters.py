"""Convert a trained model to ONNX with the converter made for it, or say why there is none.

| model                                            | converter                  |
|--------------------------------------------------|----------------------------|
| scikit-learn estimators and pipelines            | skl2onnx                   |
| XGBoost (scikit-learn API)                       | onnxmltools.convert_xgboost |
| LightGBM (scikit-learn API or Booster)           | onnxmltools.convert_lightgbm |

Inputs are float32 tensors (ONNX tree ensembles compute in float32) and strings for categories.
A pipeline that selects columns by name (a ColumnTransformer), or any model with a categorical
feature, gets one input per feature named after it (``columns`` layout); other models get one
``(n, n_features)`` float matrix (``matrix`` layout). Graphs are named after the artifact so
that the same model converts to the same bytes (skl2onnx otherwise names them with a uuid).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Literal

from slipway.core.errors import SlipwayError

Layout = Literal["matrix", "columns"]
NUMERIC_KINDS = frozenset({"number", "integer", "boolean"})
STRING_KINDS = frozenset({"category", "string"})
MATRIX_INPUT = "X"


class CompilationError(SlipwayError):
    """No compiled runtime can be made for this model; the message says why."""


@dataclass(frozen=True)
class Compiled:
    model: Any  # onnx.ModelProto
    converter: str
    layout: Layout


def convert(model: Any, *, features: Sequence[str], kinds: Mapping[str, str], name: str) -> Compiled:
    """The ONNX form of ``model`` taking ``features`` (of profile ``kinds``), or CompilationError."""
    unsupported = [f for f in features if kinds.get(f) not in NUMERIC_KINDS | STRING_KINDS]
    if unsupported:
        raise CompilationError(
            f"feature {unsupported[0]!r} is of kind {kinds.get(unsupported[0])!r}: ONNX inputs "
            "are numbers and strings only"
        )
    if type(model).__name__ == "ModelProto" or str(model).endswith(".onnx"):
        raise CompilationError("the model is already ONNX: its native runtime is onnxruntime")
    family = _family(model)
    # Converters warn about their own internals (deprecated numpy aliases, opset choices); the
    # parity check, not their warnings, decides whether the result is used.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if family == "sklearn":
                return _sklearn(model, features, kinds, name)
            if family == "xgboost":
                return _xgboost(model, features, kinds, name)
            if family == "lightgbm":
                return _lightgbm(model, features, kinds, name)
        except CompilationError:
            raise
        except Exception as exc:  # converters raise any type; the build must go on
            raise CompilationError(
                f"{family} conversion failed: {type(exc).__name__}: {_short(exc)}"
            ) from exc
    raise CompilationError(
        f"no ONNX converter for {type(model).__module__}.{type(model).__qualname__}; "
        "converters exist for scikit-learn, XGBoost and LightGBM models"
    )


def _family(model: Any) -> str | None:
    modules = [cls.__module__.split(".")[0] for cls in type(model).__mro__]
    for family in ("xgboost", "lightgbm"):
        if family in modules:
            return family
    return "sklearn" if "sklearn" in modules else None


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _matrix_only(family: str, features: Sequence[str], kinds: Mapping[str, str]) -> None:
    text = [f for f in features if kinds[f] not in NUMERIC_KINDS]
    if text:
        raise CompilationError(
            f"{family} models take numeric inputs only, and feature {text[0]!r} is {kinds[text[0]]}"
        )


def _uses_column_names(model: Any) -> bool:
    """Whether the model selects input columns by name (a ColumnTransformer anywhere inside)."""
    from sklearn.compose import ColumnTransformer

    if isinstance(model, ColumnTransformer):
        return True
    parts = [step for _, step in getattr(model, "steps", [])]
    parts += [part for _, part, _ in getattr(model, "transformers", [])]
    return any(_uses_column_names(part) for part in parts if hasattr(part, "get_params"))


def _sklearn(model: Any, features: Sequence[str], kinds: Mapping[str, str], name: str) -> Compiled:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.base import is_classifier

    from slipway.runtimes.skl2onnx_fix import hist_gradient_boosting_overrides

    by_column = _uses_column_names(model) or any(kinds[f] in STRING_KINDS for f in features)
    if by_column:
        initial: list[tuple[str, Any]] = [
            (f, StringTensorType([None, 1]) if kinds[f] in STRING_KINDS else FloatTensorType([None, 1]))
            for f in features
        ]
    else:
        initial = [(MATRIX_INPUT, FloatTensorType([None, len(features)]))]
    converters, shapes = hist_gradient_boosting_overrides()
    proto = convert_sklearn(
        model,
        name=name,
        initial_types=initial,
        options={id(model): {"zipmap": False}} if is_classifier(model) else None,
        custom_conversion_functions=converters,
        custom_shape_calculators=shapes,
    )
    return Compiled(proto, f"skl2onnx {version('skl2onnx')}", "columns" if by_column else "matrix")


def _xgboost(model: Any, features: Sequence[str], kinds: Mapping[str, str], name: str) -> Compiled:
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    _matrix_only("XGBoost", features, kinds)
    # onnxmltools reads features as f0, f1, ...: convert a copy of the booster without names.
    clone = type(model)()
    clone.load_model(bytearray(model.get_booster().save_raw("json")))
    clone.get_booster().feature_names = None
    proto = convert_xgboost(
        clone, name=name, initial_types=[(MATRIX_INPUT, FloatTensorType([None, len(features)]))]
    )
    return Compiled(proto, f"onnxmltools {version('onnxmltools')}", "matrix")


def _lightgbm(model: Any, features: Sequence[str], kinds: Mapping[str, str], name: str) -> Compiled:
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    _matrix_only("LightGBM", features, kinds)
    proto = convert_lightgbm(
        model,
        name=name,
        initial_types=[(MATRIX_INPUT, FloatTensorType([None, len(features)]))],
        zipmap=False,
    )
    return Compiled(proto, f"onnxmltools {version('onnxmltools')}", "matrix")
