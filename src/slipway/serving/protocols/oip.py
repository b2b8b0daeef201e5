"""The Open Inference Protocol v2 (KServe, Triton): ``/v2/models/{name}/infer`` and metadata.

A request sends one tensor per column (shape ``[n]`` or ``[n, 1]``), or a single ``[n, k]``
tensor holding the k input columns in the order the model metadata lists them. Tensors come as
JSON ``data`` or, as Triton's clients send them by default, as binary data after the JSON header
(``Inference-Header-Content-Length``, ``parameters.binary_data_size``). The response has JSON
outputs: ``predict`` ``[n]``, ``predict_proba`` ``[n, classes]`` for classifiers, ``rejected``
``[n]`` and ``flags`` ``[n]`` (each row's flags as a JSON string); a rejected row's prediction
is null. slipway's identity, request id and degraded state are in ``parameters``.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import orjson

from slipway.serving.errors import MalformedRequestError, RequestError
from slipway.serving.model import ServedModel
from slipway.serving.protocols.common import Parsed, RawColumns, check_rows, decode_json, json_object

NUMPY_TYPES: dict[str, Any] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}
DATATYPES = (*NUMPY_TYPES, "BYTES")
KIND_TYPES = {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}
OUTPUTS = ("predict", "predict_proba", "rejected", "flags")


def parse(body: bytes, *, header_length: str | None, model: ServedModel, max_rows: int) -> Parsed:
    binary = b""
    if header_length is not None:
        try:
            length = int(header_length)
        except ValueError:
            length = -1
        if not 0 < length <= len(body):
            raise MalformedRequestError(
                f"Inference-Header-Content-Length {header_length!r} must be a whole number of bytes "
                f"within the body ({len(body)} bytes)"
            )
        body, binary = body[:length], body[length:]
    request = json_object(decode_json(body), what="the inference request")
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError('"inputs" must be a non-empty list of tensors', field="inputs")
    tensors: dict[str, tuple[list[int], Any]] = {}
    offset = 0
    for index, tensor in enumerate(inputs):
        name, shape, values, used = _tensor(tensor, index, binary, offset)
        offset += used
        if name in tensors:
            raise RequestError(f"input {name!r} is sent twice", field=name)
        tensors[name] = (shape, values)
    if offset != len(binary):
        raise MalformedRequestError(
            f"{len(binary) - offset} bytes of binary data are not claimed by any input's binary_data_size"
        )
    columns, n_rows = _columns(tensors, model)
    check_rows(n_rows, max_rows)
    return Parsed(columns, n_rows, {"id": _request_id(request), "outputs": _requested(request)})


def _tensor(tensor: Any, index: int, binary: bytes, offset: int) -> tuple[str, list[int], Any, int]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise RequestError(f"{where} must be an object with name, shape, datatype and data", field=where)
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise RequestError(f"{where}.name must be a non-empty string", field=f"{where}.name")
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 2
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 1 << 31 for d in shape)
    ):
        raise RequestError(f"input {name!r}: shape must be [rows] or [rows, columns]", field=name)
    datatype = tensor.get("datatype")
    if datatype not in DATATYPES:
        raise RequestError(
            f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}", field=name
        )
    size = math.prod(shape)
    parameters = tensor.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise RequestError(f"input {name!r}: parameters must be an object", field=name)
    binary_size = parameters.get("binary_data_size")
    if binary_size is not None:
        if not isinstance(binary_size, int) or isinstance(binary_size, bool) or binary_size < 0:
            raise RequestError(f"input {name!r}: binary_data_size must be a whole number", field=name)
        if offset + binary_size > len(binary):
            raise MalformedRequestError(f"input {name!r}: binary_data_size runs past the end of the body")
        values = _from_binary(name, datatype, binary[offset : offset + binary_size], size)
        return name, shape, values, binary_size
    data = tensor.get("data")
    if not isinstance(data, list):
        raise RequestError(f"input {name!r}: data must be a list (or send binary data)", field=name)
    flat = _flatten(data)
    if len(flat) != size:
        raise RequestError(f"input {name!r}: shape {shape} needs {size} values, got {len(flat)}", field=name)
    return name, shape, flat, 0


def _flatten(data: list[Any]) -> list[Any]:
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list[Any] = []
    for item in data:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _from_binary(name: str, datatype: str, raw: bytes, size: int) -> Any:
    if datatype == "BYTES":
        values: list[Any] = []
        position = 0
        while position < len(raw):
            if position + 4 > len(raw):
                raise MalformedRequestError(f"input {name!r}: truncated BYTES element")
            (length,) = struct.unpack_from("<I", raw, position)
            position += 4
            chunk = raw[position : position + length]
            position += length
            try:
                values.append(chunk.decode())
            except UnicodeDecodeError:
                raise RequestError(f"input {name!r}: a BYTES element is not UTF-8 text", field=name) from None
        if len(values) != size:
            raise RequestError(f"input {name!r}: shape needs {size} values, got {len(values)}", field=name)
        return values
    dtype = np.dtype(NUMPY_TYPES[datatype])
    if len(raw) != size * dtype.itemsize:
        raise RequestError(
            f"input {name!r}: {len(raw)} bytes of {datatype} do not hold the {size} values of its shape",
            field=name,
        )
    array = np.frombuffer(raw, dtype=np.uint8 if datatype == "BOOL" else dtype)
    return array.astype(bool) if datatype == "BOOL" else array


def _columns(tensors: dict[str, tuple[list[int], Any]], model: ServedModel) -> tuple[RawColumns, int]:
    wanted = model.scorer.input_columns
    if len(tensors) == 1:
        name, (shape, values) = next(iter(tensors.items()))
        if len(shape) == 2 and shape[1] > 1 and name not in wanted:
            if shape[1] != len(wanted):
                raise RequestError(
                    f"input {name!r} has {shape[1]} columns; the model takes {len(wanted)}: "
                    f"{', '.join(wanted)}",
                    field=name,
                )
            matrix = np.asarray(values, dtype=object).reshape(shape) if isinstance(values, list) else None
            if matrix is None:
                array = np.asarray(values).reshape(shape)
                return {column: array[:, i] for i, column in enumerate(wanted)}, shape[0]
            return {column: matrix[:, i].tolist() for i, column in enumerate(wanted)}, shape[0]
    columns: RawColumns = {}
    rows: set[int] = set()
    for name, (shape, values) in tensors.items():
        if len(shape) == 2 and shape[1] != 1:
            raise RequestError(f"input {name!r}: a column tensor has shape [rows] or [rows, 1]", field=name)
        rows.add(shape[0])
        columns[name] = values
    if len(rows) > 1:
        raise RequestError(
            f"the input tensors have different numbers of rows: {sorted(rows)}", field="inputs"
        )
    return columns, rows.pop()


def _request_id(request: dict[str, Any]) -> str | None:
    value = request.get("id")
    if value is not None and not isinstance(value, str):
        raise RequestError('"id" must be a string', field="id")
    return value


def _requested(request: dict[str, Any]) -> tuple[str, ...] | None:
    outputs = request.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise RequestError('"outputs" must be a list of {"name": ...}', field="outputs")
    names = []
    for output in outputs:
        name = output.get("name") if isinstance(output, dict) else None
        if name not in OUTPUTS:
            raise RequestError(
                f"unknown output {name!r}: this model gives {', '.join(OUTPUTS)}", field="outputs"
            )
        names.append(name)
    return tuple(names)


def outputs(rows: list[dict[str, Any]], wanted: tuple[str, ...] | None) -> list[dict[str, Any]]:
    n = len(rows)
    predictions = [row["prediction"] for row in rows]
    result: list[dict[str, Any]] = [
        {"name": "predict", "shape": [n], "datatype": _datatype(predictions), "data": _values(predictions)}
    ]
    if rows and "probabilities" in rows[0]:
        labels = next((list(row["probabilities"]) for row in rows if row["probabilities"]), [])
        data = [
            row["probabilities"][label] if row["probabilities"] else None for row in rows for label in labels
        ]
        result.append(
            {
                "name": "predict_proba",
                "shape": [n, len(labels)],
                "datatype": "FP64",
                "data": data,
                "parameters": {"classes": ",".join(labels)},
            }
        )
    result.append(
        {"name": "rejected", "shape": [n], "datatype": "BOOL", "data": [row["rejected"] for row in rows]}
    )
    result.append(
        {
            "name": "flags",
            "shape": [n],
            "datatype": "BYTES",
            "data": [orjson.dumps(row["flags"]).decode() for row in rows],
        }
    )
    if wanted is not None:
        result = [output for output in result if output["name"] in wanted]
    return result


def _datatype(values: list[Any]) -> str:
    present = [value for value in values if value is not None]
    if present and all(isinstance(value, bool) for value in present):
        return "BOOL"
    if present and all(isinstance(value, int) and not isinstance(value, bool) for value in present):
        return "INT64"
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in present):
        return "FP64"
    return "BYTES"


def _values(values: list[Any]) -> list[Any]:
    if _datatype(values) != "BYTES":
        return values
    return [None if value is None else str(value) for value in values]


def metadata(model: ServedModel) -> dict[str, Any]:
    inputs = [
        {"name": name, "datatype": KIND_TYPES.get(kind, "BYTES"), "shape": [-1]}
        for name, kind in model.column_kinds().items()
    ]
    outputs_meta = [
        {"name": "predict", "datatype": "FP64" if model.classes is None else "BYTES", "shape": [-1]}
    ]
    if model.classes is not None:
        outputs_meta.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(model.classes)]})
    outputs_meta += [
        {"name": "rejected", "datatype": "BOOL", "shape": [-1]},
        {"name": "flags", "datatype": "BYTES", "shape": [-1]},
    ]
    return {
        "name": model.name,
        "versions": [model.version_label],
        "platform": f"slipway-{model.runtime}",
        "inputs": inputs,
        "outputs": outputs_meta,
        "parameters": {"digest": model.digest, "runtime": model.runtime},
    }


def request_schema(model: ServedModel) -> dict[str, Any]:
    tensor = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": list(model.column_kinds())},
            "shape": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 1,
                "maxItems": 2,
            },
            "datatype": {"type": "string", "enum": list(DATATYPES)},
            "data": {"type": "array"},
            "parameters": {"type": "object"},
        },
        "required": ["name", "shape", "datatype", "data"],
    }
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "enum": list(OUTPUTS)}},
                    "required": ["name"],
                },
            },
            "parameters": {"type": "object"},
        },
        "required": ["inputs"],
    }
