"""Which runtime scores: the compiled one only when its parity was verified at build time.

| choice     | runtime                                                              |
|------------|----------------------------------------------------------------------|
| ``auto``     | compiled when the artifact has a verified one, else native (default) |
| ``native``   | the artifact's own model                                             |
| ``compiled`` | the verified compiled model; an error naming the reason if none      |

``ScoredBatch.runtime`` (``"onnx"`` or ``"native"``) says which one answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from slipway.artifacts.verify import hash_file
from slipway.core.errors import IntegrityError, InvalidInputError
from slipway.runtimes.onnx_runtime import OnnxRuntime
from slipway.runtimes.section import RuntimeSection, runtime_section
from slipway.scoring.runtime import NativeRuntime, Runtime

if TYPE_CHECKING:
    from slipway.artifacts.loader import LoadedArtifact

RuntimeChoice = Literal["auto", "native", "compiled"]
CHOICES: tuple[str, ...] = get_args(RuntimeChoice)


def check_choice(choice: str) -> None:
    if choice not in CHOICES:
        raise InvalidInputError(f"unknown runtime {choice!r}; use {', '.join(CHOICES)}")


def compiled_status(artifact: LoadedArtifact) -> RuntimeSection:
    """The artifact's runtime section; one saying why when it was built without compilation."""
    section = runtime_section(artifact.manifest)
    if section is None:
        return RuntimeSection(verified=False, reason="the artifact was built without the compile step")
    return section


def compiled_runtime(artifact: LoadedArtifact) -> Runtime | None:
    """The verified compiled runtime of ``artifact``, or None when it has none.

    The ONNX file is hashed again against the manifest before it is opened, so a file changed
    after the artifact was loaded is refused too.
    """
    section = compiled_status(artifact)
    if not section.verified or section.compiled is None:
        return None
    path = artifact.path / section.compiled.path
    entry = artifact.manifest.file(section.compiled.path)
    if not path.is_file() or hash_file(path) != entry.sha256:
        raise IntegrityError(
            f"artifact file {section.compiled.path!r} was modified: its sha256 does not match the "
            "manifest; rebuild the artifact, or fetch it again from the registry"
        )
    return OnnxRuntime.from_file(
        path, layout=section.compiled.layout, classification=artifact.task == "classification"
    )


def select_runtime(artifact: LoadedArtifact, choice: str = "auto") -> Runtime:
    check_choice(choice)
    if choice == "native":
        return NativeRuntime(artifact.runner)
    compiled = compiled_runtime(artifact)
    if compiled is not None:
        return compiled
    if choice == "compiled":
        raise InvalidInputError(
            f"artifact {artifact.name} ({artifact.digest[:12]}) has no verified compiled runtime: "
            f"{compiled_status(artifact).reason}; use runtime 'auto' or 'native'"
        )
    return NativeRuntime(artifact.runner)
