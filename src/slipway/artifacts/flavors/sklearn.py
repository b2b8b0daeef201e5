"""scikit-learn estimators and pipelines, saved with skops (no pickle).

skops files name the types they contain; which of those types may be instantiated is decided
here, by slipway's policy plus what the caller explicitly trusts, never by the file itself.
skops also writes object ids and zip timestamps into its files, so the bytes are rewritten into a
canonical form to make equal models give equal digests.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from slipway.artifacts.flavors.base import EstimatorRunner, SavedModel, class_labels
from slipway.core.errors import IntegrityError, UntrustedContentError
from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions

_MODEL_FILE = "model/model.skops"
_NPY_NAME = re.compile(r"(\d+)\.npy")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class SklearnFlavor:
    name = "sklearn"
    requirements: tuple[str, ...] = ("scikit-learn", "skops", "numpy", "scipy", "pandas")

    def accepts(self, model: object) -> bool:
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(self, model: Any, root: Path) -> SavedModel:
        import skops.io as sio

        target = root / _MODEL_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(canonical_skops(sio.dumps(model)))
        classes = getattr(model, "classes_", None)
        return SavedModel(path=_MODEL_FILE, classes=class_labels(classes) if classes is not None else None)

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner:
        import skops.io as sio

        data = (root / section.path).read_bytes()
        try:
            found = sio.get_untrusted_types(data=data)
        except (zipfile.BadZipFile, json.JSONDecodeError, KeyError) as exc:
            raise IntegrityError(f"{section.path} is not a readable skops file: {exc}") from exc
        refused = [name for name in found if not is_trusted_type(name, extra=trust.skops_types)]
        if refused:
            raise UntrustedContentError(
                f"{section.path} holds types outside slipway's trusted list: {', '.join(sorted(refused))}; "
                "if you trust them, pass them explicitly (trusted_types=[...] / --trust-type NAME)"
            )
        return EstimatorRunner(sio.loads(data, trusted=found))


def is_trusted_type(name: str, *, extra: tuple[str, ...] = ()) -> bool:
    """slipway's policy: scikit-learn's own classes and numpy ufuncs, plus what the caller names.

    Functions (``builtins.eval``, ``os.system``) and classes from other packages are refused: a
    skops file instantiates whatever it names, so only types whose construction is known to be
    harmless are accepted.
    """
    if name in extra:
        return True
    module_name, _, attr = name.rpartition(".")
    if not module_name.startswith(("sklearn.", "numpy")):
        return False
    try:
        value = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return False
    if isinstance(value, np.ufunc):
        return True
    return isinstance(value, type) and value.__module__.startswith("sklearn.")


def canonical_skops(data: bytes) -> bytes:
    """Rewrite a skops zip so equal objects give equal bytes.

    skops names arrays and memo entries after ``id()`` of the Python objects, and stamps zip
    entries with the current time. Ids are renumbered in the order of first appearance in the
    schema (a deterministic traversal), and entries get a fixed time and order.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        ids: dict[int, int] = {}
        schema = _renumber(schema, ids)
        files = {name: source.read(name) for name in source.namelist() if name != "schema.json"}
    renamed = {_rename_npy(name, ids): content for name, content in files.items()}
    renamed["schema.json"] = json.dumps(schema, sort_keys=True, indent=1).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(renamed):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, renamed[name])
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int]) -> Any:
    if isinstance(node, list):
        return [_renumber(item, ids) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "__id__" and isinstance(value, int):
            result[key] = ids.setdefault(value, len(ids) + 1)
        elif key == "file" and isinstance(value, str) and _NPY_NAME.fullmatch(value):
            result[key] = _rename_npy(value, ids)
        else:
            result[key] = _renumber(value, ids)
    return result


def _rename_npy(name: str, ids: dict[int, int]) -> str:
    match = _NPY_NAME.fullmatch(name)
    if match is None:
        return name
    number = ids.setdefault(int(match[1]), len(ids) + 1)
    return f"{number}.npy"
