"""Pickled models: refused unless the caller explicitly trusts pickle, at build and at load.

Unpickling runs arbitrary code, so this flavor exists only for models nothing else can hold.
The trust decision is recorded in the manifest (``trusted_pickle``) and in the audit log.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from slipway.artifacts.flavors.base import EstimatorRunner, SavedModel, class_labels
from slipway.core.errors import UntrustedContentError
from slipway.core.manifest import ModelSection
from slipway.core.model import ModelRunner, TrustOptions

_MODEL_FILE = "model/model.pkl"
REFUSED = (
    "{what} is a pickle model: loading it can run arbitrary code. Pass trust_pickle=True "
    "(CLI: --trust-pickle) only if you trust its origin, or save the model with skops, ONNX or "
    "a native format instead"
)


class PickleFlavor:
    name = "pickle"
    requirements: tuple[str, ...] = ("numpy", "pandas", "scikit-learn")

    def accepts(self, model: object) -> bool:
        return callable(getattr(model, "predict", None))

    def save(self, model: Any, root: Path) -> SavedModel:
        target = root / _MODEL_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pickle.dumps(model, protocol=5))
        classes = getattr(model, "classes_", None)
        return SavedModel(
            path=_MODEL_FILE,
            classes=class_labels(classes) if classes is not None else None,
            trusted_pickle=True,
        )

    def load(self, root: Path, section: ModelSection, trust: TrustOptions) -> ModelRunner:
        if not trust.pickle:
            raise UntrustedContentError(REFUSED.format(what=f"{section.path}"))
        model = pickle.loads((root / section.path).read_bytes())  # noqa: S301 - trust checked above
        return EstimatorRunner(model, classes=section.classes)
