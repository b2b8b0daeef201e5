"""The scorer batch engines build in each worker: the same runtime and lookups as online.

The artifact's verified compiled runtime is used when it has one (``runtime="auto"``, as the
server does), its runtime guards apply as online (``slipway.guards.stages``), and its
declared lookups run as joins with the lookup table (one query per chunk's
distinct keys, the same values and miss flags as online lookups). Lookup URLs are read from the
worker's environment, which local workers and Spark's local Python workers inherit.
"""

from __future__ import annotations

import os

from slipway.adapters.lookup_sources import open_lookup_source
from slipway.artifacts.loader import LoadedArtifact
from slipway.enrichment.artifact import deployment_lookups, lookup_stages
from slipway.guards.stages import guard_stages
from slipway.runtimes.selection import select_runtime
from slipway.scoring.scorer import Scorer, Stage


def artifact_scorer(artifact: LoadedArtifact, *, guards: bool = True) -> Scorer:
    """The artifact's scorer for batch: compiled runtime when verified, lookups as joins, and
    the artifact's runtime guards (``guards=False``: none, see ``unguarded_scorer``)."""
    specs = deployment_lookups(artifact, None)
    stages: list[Stage] = list(
        lookup_stages(
            artifact, specs, open_source=lambda spec: open_lookup_source(spec, environ=os.environ), join=True
        )
    )
    stages.extend(guard_stages(artifact, guards=guards))
    return Scorer(artifact, runtime=select_runtime(artifact, "auto"), stages=stages)


def unguarded_scorer(artifact: LoadedArtifact) -> Scorer:
    """``artifact_scorer`` without the runtime guards (``slipway score --no-guards``)."""
    return artifact_scorer(artifact, guards=False)
