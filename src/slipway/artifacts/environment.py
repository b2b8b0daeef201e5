"""The environment an artifact was built in: Python, platform, and the exact packages it needs.

The lock file (``environment/requirements.lock``) pins the closure of the model's requirements
as installed at build time, so ``pip install -r`` rebuilds the environment. When an artifact is
loaded under different versions, a warning names each difference (the scikit-learn pattern of
stamping persisted models with the library version).
"""

from __future__ import annotations

import platform
import sys
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


class EnvironmentSkewWarning(UserWarning):
    """An artifact is loaded with package versions other than those it was built with."""


def capture_environment(requirements: Iterable[str]) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "machine": platform.machine(),
        "packages": resolve_closure(requirements),
    }


def resolve_closure(requirements: Iterable[str]) -> dict[str, str]:
    """Installed versions of ``requirements`` and everything they depend on, by canonical name."""
    found: dict[str, str] = {}
    pending = [_requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        if requirement is None:
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # optional or not installed here: nothing to pin
        found[name] = distribution.version
        for text in distribution.requires or ():
            child = _requirement(text)
            if child is not None and (child.marker is None or child.marker.evaluate({"extra": ""})):
                pending.append(child)
    return dict(sorted(found.items()))


def _requirement(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def to_lock_file(packages: Mapping[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(packages.items()))


def check_environment(recorded: Mapping[str, Any], *, source: str) -> list[str]:
    """Warn about each package whose installed version differs from the recorded one."""
    differences = []
    for name, version in recorded.get("packages", {}).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            differences.append(f"{name} {version} is not installed")
            continue
        if installed != version:
            differences.append(f"{name} {installed} is installed, the artifact was built with {version}")
    if differences:
        warnings.warn(
            f"{source}: " + "; ".join(differences) + " (pip install -r environment/requirements.lock)",
            EnvironmentSkewWarning,
            stacklevel=3,
        )
    return differences
