"""A narrow fix for skl2onnx 1.20 on HistGradientBoosting with scikit-learn 1.9 and onnx 1.23.

skl2onnx's tree converter fills the node attributes of HistGradientBoosting trees with numpy
``uint32`` and ``bool`` scalars (read from the predictor's structured node array), and
``onnx.helper.make_attribute`` refuses them: ``AttributeProto.ints: Expected an int, got a
boolean``. The fix wraps skl2onnx's own converter for these two estimators and hands it a
container whose ``add_node`` turns such integer lists into Python ``int``s; nothing else changes
and nothing in skl2onnx is patched. It is passed per conversion (``custom_conversion_functions``),
so other users of skl2onnx in the process are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_INTEGERS = (bool, int, np.integer, np.bool_)

Converter = Callable[[Any, Any, Any], None]


def as_onnx_ints(value: Any) -> Any:
    """A list of numpy integers/booleans as a list of Python ints; any other value unchanged."""
    if isinstance(value, list) and value and all(isinstance(item, _INTEGERS) for item in value):
        return [int(item) for item in value]
    return value


class _IntAttributeContainer:
    """Delegates to skl2onnx's container, coercing integer-list attributes of new nodes."""

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, *args: Any, **attributes: Any) -> Any:
        return self._container.add_node(*args, **{k: as_onnx_ints(v) for k, v in attributes.items()})


def _wrapped(converter: Converter) -> Converter:
    def convert(scope: Any, operator: Any, container: Any) -> None:
        converter(scope, operator, _IntAttributeContainer(container))

    return convert


def hist_gradient_boosting_overrides() -> tuple[dict[type, Converter], dict[type, Any]]:
    """``custom_conversion_functions`` and ``custom_shape_calculators`` for ``convert_sklearn``."""
    from skl2onnx import get_model_alias
    from skl2onnx.common._registration import get_converter, get_shape_calculator
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    converters: dict[type, Converter] = {}
    shapes: dict[type, Any] = {}
    for estimator in (HistGradientBoostingClassifier, HistGradientBoostingRegressor):
        alias = get_model_alias(estimator)
        converters[estimator] = _wrapped(get_converter(alias))
        shapes[estimator] = get_shape_calculator(alias)
    return converters, shapes
