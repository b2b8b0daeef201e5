"""Python-class models: a class in the artifact's ``code/`` that saves to and loads from files.

The contract (no pickle anywhere): the instance has ``save(path)`` writing plain files into a
folder, the class has a ``load(path)`` classmethod rebuilding the instance from them, and the
instance has ``predict(frame)`` (plus ``predict_proba`` and ``classes_`` for classifiers).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from slipway.artifacts.code_import import import_entry
from slipway.artifacts.flavors.base import EstimatorRunner, SavedModel, class_labels
from slipway.core.errors import InvalidInputError
from slipway.core.manifest import MANIFEST_NAME, ModelSection
from slipway.core.model import ModelRunner, TrustOptions

_MODEL_DIR = "model/files"


class PythonFlavor:
    name = "python"
    requirements: tuple[str, ...] = ("numpy", "pandas")

    def accepts(self, model: object) -> bool:
        cls = type(model)
        return all(callable(getattr(cls, method, None)) for method in ("save", "load", "predict"))

    def save(self, model: Any, root: Path) -> SavedModel:
        cls = type(model)
        module = cls.__module__
        module_path = root / "code" / Path(*module.split("."))
        if module == "__main__" or not (
            module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file()
        ):
            raise InvalidInputError(
                f"python model class {cls.__qualname__!r} lives in module {module!r}, which is not in "
                "the bundled code: put the class in a module file and pass it with code=[...]"
            )
        target = root / _MODEL_DIR
        target.mkdir(parents=True, exist_ok=True)
        model.save(target)
        classes = getattr(model, "classes_", None)
        return SavedModel(
            path=_MODEL_DIR,
            classes=class_labels(classes) if classes is not None else None,
            options={"entry": f"{module}:{cls.__qualname__}"},
        )

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner:
        # Each artifact's code gets its own import namespace, named after its manifest's hash;
        # build steps load the model before the manifest exists, so the staging folder names it.
        manifest = root / MANIFEST_NAME
        seed = manifest.read_bytes() if manifest.is_file() else str(root.resolve()).encode()
        namespace = hashlib.sha256(seed).hexdigest()[:16]
        cls = import_entry(root / "code", str(section.options["entry"]), namespace=namespace)
        return EstimatorRunner(cls.load(root / section.path), classes=section.classes)
