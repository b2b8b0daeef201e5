"""The build step that compiles the model to ONNX and keeps it only if parity holds.

1. Pick the parity data: the build's validation data, else its training data (at most
   ``max_rows`` rows, a fixed random sample beyond that).
2. Convert with the converter made for the model (``converters``), writing ``runtime/model.onnx``.
3. Score the parity data with the native model (as rebuilt from the artifact) and with the
   compiled one, through the same ``Runtime`` protocol serving uses, and compare (``parity``).
4. Record the result in ``runtime/parity.json`` and the manifest's ``runtime`` section; without
   a converter or without parity the ONNX file is removed and the section says why.

The build never fails because compilation failed: the native model then serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import pandas as pd

from slipway.core.errors import InvalidInputError
from slipway.runtimes.converters import CompilationError, Compiled, convert
from slipway.runtimes.onnx_runtime import OnnxRuntime
from slipway.runtimes.parity import ParityReport, Tolerance, check_parity
from slipway.runtimes.section import ONNX_FILE, PARITY_FILE, SECTION, CompiledModel, RuntimeSection
from slipway.scoring.runtime import NativeRuntime
from slipway.scoring.schema import Columns, ColumnSpec, coerce_column

if TYPE_CHECKING:
    from slipway.artifacts.steps import BuildContext

MAX_PARITY_ROWS = 100_000
Converter = Callable[..., Compiled]


class OnnxCompileStep:
    """``BuildStep`` writing the ``runtime`` section (see ``slipway.runtimes.section``)."""

    name = SECTION

    def __init__(
        self,
        *,
        tolerance: Tolerance | None = None,
        max_rows: int = MAX_PARITY_ROWS,
        converter: Converter = convert,
    ) -> None:
        self.tolerance = tolerance or Tolerance()
        self.max_rows = max_rows
        self.converter = converter

    def run(self, context: BuildContext) -> dict[str, Any]:
        return self.compile(context).to_dict()

    def compile(self, context: BuildContext) -> RuntimeSection:
        try:
            frame, data = self._parity_data(context)
            kinds = feature_kinds(context, frame)
            compiled = self.converter(
                context.model, features=context.features, kinds=kinds, name=context.name
            )
        except CompilationError as exc:
            return RuntimeSection(verified=False, reason=str(exc))
        target = context.root / ONNX_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(compiled.model.SerializeToString())
        try:
            report = self._check(context, compiled, frame, data, kinds)
        except CompilationError as exc:
            target.unlink()
            return RuntimeSection(verified=False, reason=str(exc))
        (context.root / PARITY_FILE).write_bytes(
            json.dumps(report.to_dict(), sort_keys=True, indent=2, allow_nan=False).encode() + b"\n"
        )
        summary = {key: value for key, value in report.to_dict().items() if key != "examples"}
        if not report.passed:
            target.unlink()
            return RuntimeSection(
                verified=False,
                parity=summary,
                parity_file=PARITY_FILE,
                reason=f"parity failed: {report.reason}",
            )
        model = CompiledModel(
            path=ONNX_FILE,
            layout=compiled.layout,
            converter=compiled.converter,
            onnxruntime=version("onnxruntime"),
        )
        return RuntimeSection(verified=True, compiled=model, parity=summary, parity_file=PARITY_FILE)

    def _parity_data(self, context: BuildContext) -> tuple[pd.DataFrame, str]:
        for data, frame in (("validation", context.validation), ("train", context.train)):
            if frame is not None and len(frame):
                missing = [name for name in context.features if name not in frame.columns]
                if missing:
                    raise CompilationError(f"the {data} data has no column {missing[0]!r} to check parity on")
                if len(frame) > self.max_rows:
                    frame = frame.sample(n=self.max_rows, random_state=0)
                return frame.reset_index(drop=True), data
        raise CompilationError("no validation or training data to check the compiled model's parity on")

    def _check(
        self,
        context: BuildContext,
        compiled: Compiled,
        frame: pd.DataFrame,
        data: str,
        kinds: Mapping[str, str],
    ) -> ParityReport:
        classification = context.task == "classification"
        try:
            runtime = OnnxRuntime.from_file(
                context.root / ONNX_FILE, layout=compiled.layout, classification=classification
            )
        except Exception as exc:  # onnxruntime raises untyped errors for graphs it refuses
            raise CompilationError(f"onnxruntime cannot load the converted model: {_short(exc)}") from exc
        columns = parity_columns(frame, context.features, kinds)
        try:
            return check_parity(
                NativeRuntime(context.runner),
                runtime,
                columns,
                context.features,
                classification=classification,
                tolerance=self.tolerance,
                data=data,
            )
        except Exception as exc:  # either runtime may fail on the data; record why
            raise CompilationError(
                f"the parity check could not run: {type(exc).__name__}: {_short(exc)}"
            ) from exc


def feature_kinds(context: BuildContext, frame: pd.DataFrame) -> dict[str, str]:
    """Each feature's profile kind, or one inferred from the parity data without a profile."""
    if context.profile is not None:
        return {feature.name: feature.kind for feature in context.profile.features}
    kinds = {}
    for name in context.features:
        dtype = frame[name].dtype
        kinds[name] = (
            "boolean"
            if pd.api.types.is_bool_dtype(dtype)
            else "number"
            if pd.api.types.is_numeric_dtype(dtype)
            else "datetime"
            if pd.api.types.is_datetime64_any_dtype(dtype)
            else "string"
        )
    return kinds


def parity_columns(frame: pd.DataFrame, features: Sequence[str], kinds: Mapping[str, str]) -> Columns:
    """The parity rows as scoring sees them: typed numpy columns, as schema enforcement makes them."""
    try:
        return {
            name: coerce_column(ColumnSpec(name, kinds[name], nullable=True), frame[name].to_numpy())
            for name in features
        }
    except InvalidInputError as exc:
        raise CompilationError(f"the parity data does not fit the model's schema: {exc}") from exc


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."
