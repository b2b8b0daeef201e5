"""Deployments in the registry: stored with compare-and-set, every change audited with it.

``Deployments`` is the storage side of ``slipway.rollout``: it knows nothing of strategies, only
that an update must name the generation it was computed from. If another worker or replica
changed the deployment in between, ``StaleDeploymentError`` says so and nothing is written.
Stats windows, exposures and outcomes are data, not changes of state, and are not audited.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from slipway.core.audit import AuditEvent, utc_now_iso
from slipway.core.deployment import DeploymentRecord, ExposureRecord, OutcomeRecord, StatsWindow
from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError
from slipway.core.refs import check_name
from slipway.registry.service import Registry

_MAX_KEY = 200
_MAX_REQUEST_ID = 64


class StaleDeploymentError(ConflictError):
    """The deployment changed since it was read; read it again and recompute the change."""


def subject(name: str) -> str:
    """The audit subject of a deployment (distinct from model subjects such as ``name:3``)."""
    return f"deployment/{name}"


class Deployments:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.metadata = registry.metadata

    def get(self, name: str) -> DeploymentRecord:
        check_name(name, kind="deployment name")
        with self.metadata.read() as tx:
            record = tx.get_deployment(name)
            known = [d.name for d in tx.list_deployments()] if record is None else []
        if record is None:
            listed = ", ".join(known[:10]) or "none yet"
            raise NotFoundError(
                f"no deployment {name!r} (deployments: {listed}); "
                f"create it with `slipway deploy {name} MODEL_REF`"
            )
        return record

    def find(self, name: str) -> DeploymentRecord | None:
        with self.metadata.read() as tx:
            return tx.get_deployment(name)

    def all(self) -> list[DeploymentRecord]:
        with self.metadata.read() as tx:
            return tx.list_deployments()

    def create(self, record: DeploymentRecord, *, action: str, after: Mapping[str, Any]) -> AuditEvent:
        check_name(record.name, kind="deployment name")
        with self.metadata.write() as tx:
            tx.insert_deployment(record)
            return self.registry._append(tx, action, subject(record.name), after=after)

    def update(
        self,
        record: DeploymentRecord,
        *,
        expected_generation: int,
        action: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> DeploymentRecord:
        """Write ``record`` as the next generation if the stored one is still ``expected_generation``."""
        stored = dataclasses.replace(record, generation=expected_generation + 1, updated_at=utc_now_iso())
        with self.metadata.write() as tx:
            if not tx.replace_deployment(stored, expected_generation=expected_generation):
                current = tx.get_deployment(record.name)
                found = (
                    "it no longer exists" if current is None else f"it is at generation {current.generation}"
                )
                raise StaleDeploymentError(
                    f"deployment {record.name!r} changed while this update was prepared (expected generation "
                    f"{expected_generation}, {found}); run the command again"
                )
            self.registry._append(tx, action, subject(record.name), before=before, after=after)
        return stored

    # data the serving workers send

    def record_stats(self, windows: Sequence[StatsWindow]) -> None:
        if windows:
            with self.metadata.write() as tx:
                tx.insert_stats(windows)

    def stats(self, name: str, *, since: str | None = None) -> list[StatsWindow]:
        with self.metadata.read() as tx:
            return tx.list_stats(name, since=since)

    def record_exposures(self, exposures: Sequence[ExposureRecord]) -> None:
        if exposures:
            with self.metadata.write() as tx:
                tx.insert_exposures(exposures)

    def exposure(self, request_id: str) -> ExposureRecord | None:
        with self.metadata.read() as tx:
            return tx.get_exposure(request_id)

    def exposures(self, name: str) -> list[ExposureRecord]:
        with self.metadata.read() as tx:
            return tx.list_exposures(name)

    def record_outcome(
        self, name: str, value: float, *, request_id: str | None = None, user_key: str | None = None
    ) -> OutcomeRecord:
        """Store feedback for a request id or a user key that this deployment has served."""
        _check_outcome(value, request_id, user_key)
        with self.metadata.write() as tx:
            if tx.get_deployment(name) is None:
                raise NotFoundError(f"no deployment {name!r}; feedback goes to the deployment that answered")
            if request_id is not None:
                exposure = tx.get_exposure(request_id)
                if exposure is None or exposure.deployment != name:
                    raise NotFoundError(
                        f"deployment {name!r} has no request {request_id!r}: send the request_id a response "
                        "returned (exposures are written a few seconds after the response)"
                    )
            elif user_key is not None and tx.find_user_exposure(name, user_key) is None:
                raise NotFoundError(f"deployment {name!r} has not served user key {user_key!r}")
            record = OutcomeRecord(
                name, float(value), utc_now_iso(), request_id=request_id, user_key=user_key
            )
            return tx.insert_outcome(record)

    def outcomes(self, name: str) -> list[OutcomeRecord]:
        with self.metadata.read() as tx:
            return tx.list_outcomes(name)


def _check_outcome(value: float, request_id: str | None, user_key: str | None) -> None:
    if (request_id is None) == (user_key is None):
        raise InvalidInputError("feedback needs exactly one of request_id or user_key")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"feedback value {value!r} is not a finite number (use 1/0 for conversions)")
    if request_id is not None and not (
        isinstance(request_id, str) and 0 < len(request_id) <= _MAX_REQUEST_ID
    ):
        raise InvalidInputError(f"invalid request_id {request_id!r}: use the id a response returned")
    if user_key is not None and not (isinstance(user_key, str) and 0 < len(user_key) <= _MAX_KEY):
        raise InvalidInputError(f"invalid user key {user_key!r}: use 1-200 characters")
