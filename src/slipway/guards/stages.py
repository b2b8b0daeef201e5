"""The ONE place that turns an artifact's stored guards into scorer stages.

``guard_stages`` is used by everything that scores: ``Slipway.scorer`` (gate and HTTP server),
and the batch engines' ``artifact_scorer``. Order: degraded mode, domain, anomaly (input);
conformal, output checks, then the fallback (output), which answers for every row a guard or
the degraded mode handed to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway.guards.anomaly import AnomalyGuard
from slipway.guards.conformal import ConformalGuard
from slipway.guards.degraded import DegradedMode
from slipway.guards.domain import DomainGuard
from slipway.guards.fallback import Fallback, FallbackStage
from slipway.guards.output import OutputGuard
from slipway.guards.step import GUARDS_FILE, SECTION

if TYPE_CHECKING:
    from slipway.artifacts.loader import LoadedArtifact
    from slipway.scoring.scorer import Stage


#: The guards an artifact may hold, in the order they are applied.
GUARD_NAMES = ("domain", "anomaly", "conformal", "output")


def stored_guards(artifact: LoadedArtifact) -> dict[str, Any]:
    """The artifact's fitted guards ({} when it was built without them); the file was verified at load."""
    if SECTION not in artifact.manifest.sections or not artifact.manifest.has_file(GUARDS_FILE):
        return {}
    return dict(artifact.read_json(GUARDS_FILE))


def guard_stages(
    artifact: LoadedArtifact,
    *,
    guards: bool = True,
    degraded: DegradedMode | None = None,
    observe_only: bool = False,
) -> list[Stage]:
    """The stages applying ``artifact``'s guards (none with ``guards=False``) and degraded mode.

    ``observe_only`` turns every policy into ``flag``: the gate measures the model's own
    predictions on every row, and how often each guard would fire (``guard_flag_rate``).
    """
    fitted = stored_guards(artifact) if guards else {}
    if observe_only:
        fitted = {
            name: {**value, "policy": "flag"} if name in GUARD_NAMES else value
            for name, value in fitted.items()
            if name != "fallback"
        }
    stages: list[Any] = [degraded] if degraded is not None else []
    if "domain" in fitted:
        stages.append(DomainGuard(fitted["domain"]))
    if "anomaly" in fitted:
        stages.append(AnomalyGuard(fitted["anomaly"]))
    if "conformal" in fitted:
        stages.append(ConformalGuard(fitted["conformal"], classes=artifact.classes))
    if "output" in fitted:
        stages.append(OutputGuard(fitted["output"]))
    if "fallback" in fitted or degraded is not None:
        fallback = None
        if "fallback" in fitted:
            fallback = Fallback(
                fitted["fallback"],
                root=artifact.path,
                task=artifact.task,
                features=artifact.features,
                classes=artifact.classes,
            )
        stages.append(FallbackStage(fallback))
    return stages


__all__ = ["guard_stages", "stored_guards"]
