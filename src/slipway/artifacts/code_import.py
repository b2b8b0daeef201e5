"""Import user code bundled in an artifact's ``code/`` folder, isolated per artifact.

Two versions of one model may be loaded in the same process (stable and candidate slots), each
with its own ``code/`` holding a module of the same name. Each artifact's code is therefore
imported under its own synthetic package, named after the artifact digest. Bytecode writing is
off while importing: a ``__pycache__`` folder appearing inside a verified artifact would be an
unlisted file, and a planted ``.pyc`` is exactly what verification must refuse.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slipway.core.errors import IntegrityError, InvalidInputError


@contextmanager
def _importing_from(code_dir: Path) -> Iterator[None]:
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(code_dir))
    try:
        yield
    finally:
        sys.dont_write_bytecode = previous
        if str(code_dir) in sys.path:
            sys.path.remove(str(code_dir))


def import_entry(code_dir: Path, entry: str, *, namespace: str) -> Any:
    """Return the object named by ``entry`` (``module.sub:Name``) from ``code_dir``."""
    module_name, _, attribute = entry.partition(":")
    if not module_name or not attribute:
        raise InvalidInputError(f"malformed code entry point {entry!r}: expected 'module:Name'")
    package = f"_slipway_code_{namespace}"
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(code_dir)]
        sys.modules[package] = module
    with _importing_from(code_dir):
        try:
            module = importlib.import_module(f"{package}.{module_name}")
        except ImportError as exc:
            raise IntegrityError(f"cannot import {module_name!r} from the artifact's code/: {exc}") from exc
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise IntegrityError(f"code/ module {module_name!r} defines no {attribute!r}")
        target = getattr(target, part)
    return target
