"""The ``runtime`` section of the manifest: what was compiled, and whether it may be used.

    "runtime": {
      "verified": true,
      "compiled": {"format": "onnx", "path": "runtime/model.onnx", "layout": "matrix",
                   "converter": "skl2onnx 1.20.0", "onnxruntime": "1.32.0"},
      "parity": {"data": "validation", "rows": 1000, "passed": true, "max_abs_diff": ..., ...},
      "parity_file": "runtime/parity.json",
      "reason": null
    }

``verified`` is true only when the parity check passed; otherwise ``compiled`` is null and
``reason`` says why (no converter, conversion failed, parity failed, no data to check on).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from slipway.core.errors import IntegrityError
from slipway.core.manifest import Manifest, check_relative_path

SECTION = "runtime"
ONNX_FILE = "runtime/model.onnx"
PARITY_FILE = "runtime/parity.json"


class CompiledModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["onnx"] = "onnx"
    path: str
    layout: Literal["matrix", "columns"]
    converter: str
    onnxruntime: str

    @model_validator(mode="after")
    def _safe_path(self) -> CompiledModel:
        check_relative_path(self.path)
        return self


class RuntimeSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    verified: bool
    compiled: CompiledModel | None = None
    parity: dict[str, Any] | None = None
    parity_file: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuntimeSection:
        if self.verified and (self.compiled is None or self.parity is None or not self.parity.get("passed")):
            raise ValueError("a verified runtime needs a compiled model and a passed parity check")
        if not self.verified and self.compiled is not None:
            raise ValueError("an unverified runtime records no compiled model")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def runtime_section(manifest: Manifest) -> RuntimeSection | None:
    """The manifest's runtime section, or None for an artifact built without the compile step."""
    data = manifest.sections.get(SECTION)
    if data is None:
        return None
    try:
        return RuntimeSection.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise IntegrityError(
            f"artifact {manifest.name}: the manifest's runtime section is malformed: "
            f"{'.'.join(map(str, first['loc']))}: {first['msg']}; rebuild the artifact"
        ) from exc
