"""Releases over the registry: deploy, start a rollout, step it, end it, read it out.

Every method reads the deployment, computes the change with the pure modules (policy,
controller, analysis) and writes it back with compare-and-set, audited in the same transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slipway.core.audit import parse_time, utc_now_iso
from slipway.core.deployment import (
    CANDIDATE,
    STABLE,
    DeploymentRecord,
    DeploymentState,
    ExposureRecord,
    OutcomeRecord,
    SlotRecord,
)
from slipway.core.errors import ConflictError, InvalidInputError
from slipway.core.refs import ModelRef, check_name
from slipway.registry.deployments import Deployments
from slipway.registry.service import Registry
from slipway.rollout import controller
from slipway.rollout.abtest import Readout, readout
from slipway.rollout.analysis import StepProgress, Verdict, analyze, shadow_report, summarize
from slipway.rollout.policy import Policy, Strategy, candidate_percent, mirror_percent, parse_policy

SLOT_OPTIONS = ("runtime", "lookups", "trust_pickle")
RUNNING = (DeploymentState.ROLLING, DeploymentState.AWAITING_APPROVAL, DeploymentState.SWITCHED)


class Rollouts:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.deployments = Deployments(registry)

    # -- create and start ----------------------------------------------------------------

    def deploy(
        self, name: str, ref: ModelRef | str, *, options: Mapping[str, Any] | None = None
    ) -> DeploymentRecord:
        """Create deployment ``name`` serving ``ref`` alone, or replace its stable version when idle."""
        check_name(name, kind="deployment name")
        slot = self._slot(ref, options)
        current = self.deployments.find(name)
        if current is None:
            now = utc_now_iso()
            policy = parse_policy({"strategy": "single"})
            record = DeploymentRecord(
                name, slot, policy.to_dict(), DeploymentState.STABLE, created_at=now, updated_at=now
            )
            self.deployments.create(record, action="deployment.created", after={"stable": slot.to_dict()})
            return record
        _check_idle(current)
        if current.stable == slot:
            return current
        changed = dataclasses.replace(current, stable=slot)
        before, after = {"stable": current.stable.to_dict()}, {"stable": slot.to_dict()}
        return self._write(current, changed, "deployment.deployed", before, after)

    def start(
        self,
        name: str,
        ref: ModelRef | str,
        *,
        strategy: str = "canary",
        options: Mapping[str, Any] | None = None,
        **policy: Any,
    ) -> DeploymentRecord:
        """Put ``ref`` in the candidate slot under ``strategy`` (canary, blue-green, ab, shadow).

        ``policy`` holds the strategy's parameters (steps, min_requests, min_seconds, approval,
        split, shadow_percent, thresholds; see ``slipway.rollout.policy``).
        """
        current = self.deployments.get(name)
        _check_idle(current)
        parsed = parse_policy(
            {**policy, "strategy": strategy, "salt": policy.get("salt") or current.policy.get("salt")}
        )
        if parsed.strategy is Strategy.SINGLE:
            raise InvalidInputError(
                f"strategy 'single' is not a rollout; use `slipway deploy {name} MODEL_REF`"
            )
        slot = self._slot(ref, options)
        if slot.digest == current.stable.digest:
            raise InvalidInputError(
                f"{slot.ref} is the artifact deployment {name!r} already serves as stable; "
                "roll out another version"
            )
        now = utc_now_iso()
        started = dataclasses.replace(
            current, candidate=slot, policy=parsed.to_dict(), state=DeploymentState.ROLLING, step=0,
            step_started_at=now,
        )  # fmt: skip
        after = {"candidate": slot.to_dict(), "stable": current.stable.version, "policy": parsed.to_dict()}
        return self._write(current, started, controller.STARTED[parsed.strategy], None, after)

    # -- move ------------------------------------------------------------------------------

    def rollback(self, name: str, *, reason: str | None = None) -> DeploymentRecord:
        """Send all traffic back to stable and drop the candidate (any strategy, any step)."""
        current = self._running(name, "roll back")
        details = {"reasons": [reason or "manual rollback"], "manual": True}
        move = controller.ended(current, self.policy(current), utc_now_iso(), promoted=False, details=details)
        return self._apply(current, move)

    def promote(self, name: str, *, reason: str | None = None) -> DeploymentRecord:
        """End the rollout now with the candidate as the new stable (e.g. an A/B test or shadow won)."""
        current = self._running(name, "promote")
        details = {"reasons": [reason or "manual promotion"], "manual": True}
        move = controller.ended(current, self.policy(current), utc_now_iso(), promoted=True, details=details)
        return self._apply(current, move)

    def approve(self, name: str) -> DeploymentRecord:
        current = self.deployments.get(name)
        if current.state is not DeploymentState.AWAITING_APPROVAL:
            raise ConflictError(
                f"deployment {name!r} is {current.state}, not awaiting approval; nothing to approve"
            )
        return self._apply(current, controller.approved(current, self.policy(current), utc_now_iso()))

    def switch(self, name: str) -> DeploymentRecord:
        """Blue-green: send all traffic to the (loaded, warmed, smoke-tested) candidate at once."""
        current = self.deployments.get(name)
        if (
            self.policy(current).strategy is not Strategy.BLUE_GREEN
            or current.state is not DeploymentState.ROLLING
        ):
            raise ConflictError(
                f"deployment {name!r} has no blue-green rollout waiting to switch (state {current.state}, "
                f"strategy {current.policy.get('strategy')})"
            )
        return self._apply(current, controller.switched(current))

    def retire(self, name: str) -> DeploymentRecord:
        """Blue-green: drop the old version kept for rollback; the switched-to version becomes stable."""
        current = self.deployments.get(name)
        if current.state is not DeploymentState.SWITCHED:
            raise ConflictError(
                f"deployment {name!r} has not switched (state {current.state}); nothing to retire"
            )
        move = controller.ended(current, self.policy(current), utc_now_iso(), promoted=True)
        return self._apply(current, move)

    def tick(
        self, name: str, *, now: datetime | None = None
    ) -> tuple[DeploymentRecord, Verdict | None, str | None]:
        """One controller step: analyze the current canary step and promote, hold or roll back.

        Returns the (possibly new) record, the verdict, and the audit action taken (None when held
        or when another worker moved the deployment first).
        """
        current = self.deployments.get(name)
        verdict = self.evaluate(current, now=now)
        if verdict is None:
            return current, None, None
        move = controller.after_verdict(current, self.policy(current), verdict, _iso(now))
        if move is None:
            return current, verdict, None
        try:
            return self._apply(current, move), verdict, move.action
        except ConflictError:
            return self.deployments.get(name), verdict, None  # another controller moved it first

    # -- read --------------------------------------------------------------------------------

    def policy(self, record: DeploymentRecord) -> Policy:
        return parse_policy(record.policy)

    def evaluate(self, record: DeploymentRecord, *, now: datetime | None = None) -> Verdict | None:
        """The canary analysis of the current step (None when no canary step runs)."""
        policy = self.policy(record)
        if record.candidate is None or policy.strategy is not Strategy.CANARY:
            return None
        if record.state is not DeploymentState.ROLLING:
            return None
        windows = self.deployments.stats(record.name, since=record.step_started_at)
        stable = summarize(windows, slot=STABLE, version=record.stable.version)
        candidate = summarize(windows, slot=CANDIDATE, version=record.candidate.version)
        started = parse_time(record.step_started_at or record.updated_at)
        elapsed = ((now or datetime.now(started.tzinfo)) - started).total_seconds()
        progress = StepProgress(policy.min_requests, policy.min_seconds, elapsed)
        errors = self._outcome_errors(record)
        return analyze(stable, candidate, policy.thresholds, progress, outcome_errors=errors)

    def status(self, name: str) -> dict[str, Any]:
        record = self.deployments.get(name)
        policy = self.policy(record)
        verdict = self.evaluate(record)
        data = record.to_dict()
        data["traffic"] = {
            "candidate_percent": candidate_percent(record, policy),
            "mirror_percent": mirror_percent(record, policy),
        }
        if verdict is not None:
            data["analysis"] = verdict.to_dict()
        if record.candidate is not None and policy.strategy is Strategy.SHADOW:
            windows = self.deployments.stats(name, since=record.step_started_at)
            stable = summarize(windows, slot=STABLE, version=record.stable.version)
            data["shadow"] = shadow_report(
                stable, summarize(windows, slot=CANDIDATE, version=record.candidate.version)
            )
        return data

    def feedback(
        self, name: str, value: float, *, request_id: str | None = None, user_key: str | None = None
    ) -> OutcomeRecord:
        return self.deployments.record_outcome(name, value, request_id=request_id, user_key=user_key)

    def ab_report(
        self, name: str, *, alpha: float = 0.05, power: float = 0.8, mde: float | None = None
    ) -> Readout:
        """The A/B readout of the running (or last) test: outcomes joined to the arm that served them."""
        self.deployments.get(name)  # a clear error for an unknown deployment
        by_slot = outcomes_by_slot(self.deployments.exposures(name), self.deployments.outcomes(name))
        return readout(by_slot[STABLE], by_slot[CANDIDATE], alpha=alpha, power=power, mde=mde)

    # -- helpers -----------------------------------------------------------------------------

    def _slot(self, ref: ModelRef | str, options: Mapping[str, Any] | None) -> SlotRecord:
        record = self.registry.resolve(ref)
        return SlotRecord(record.name, record.version, record.digest, check_slot_options(options))

    def _running(self, name: str, verb: str) -> DeploymentRecord:
        current = self.deployments.get(name)
        if current.state not in RUNNING or current.candidate is None:
            raise ConflictError(f"deployment {name!r} has no rollout running; nothing to {verb}")
        return current

    def _apply(self, current: DeploymentRecord, move: controller.Transition) -> DeploymentRecord:
        before = {"state": str(current.state), "step": current.step, "generation": current.generation}
        return self._write(current, move.record, move.action, before, move.after)

    def _write(
        self,
        current: DeploymentRecord,
        changed: DeploymentRecord,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
    ) -> DeploymentRecord:
        return self.deployments.update(
            changed, expected_generation=current.generation, action=action, before=before, after=after
        )

    def _outcome_errors(self, record: DeploymentRecord) -> tuple[list[float], list[float]] | None:
        outcomes = self.deployments.outcomes(record.name)
        if not outcomes:
            return None
        exposures = {e.request_id: e for e in self.deployments.exposures(record.name)}
        errors: dict[str, list[float]] = {STABLE: [], CANDIDATE: []}
        versions = {
            STABLE: record.stable.version,
            CANDIDATE: record.candidate.version if record.candidate else None,
        }
        for outcome in outcomes:
            exposure = exposures.get(outcome.request_id or "")
            if exposure is None or exposure.prediction is None or exposure.version != versions[exposure.slot]:
                continue
            errors[exposure.slot].append(abs(exposure.prediction - outcome.value))
        return errors[STABLE], errors[CANDIDATE]


def outcomes_by_slot(
    exposures: list[ExposureRecord], outcomes: list[OutcomeRecord]
) -> dict[str, list[float]]:
    """Outcome values per arm: by request id, or by user key (a sticky user has one arm)."""
    by_request = {e.request_id: e.slot for e in exposures}
    by_user = {e.user_key: e.slot for e in exposures if e.user_key is not None}
    values: dict[str, list[float]] = {STABLE: [], CANDIDATE: []}
    for outcome in outcomes:
        slot = by_request.get(outcome.request_id or "") or by_user.get(outcome.user_key or "")
        if slot in values:
            values[slot].append(outcome.value)
    return values


def check_slot_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    data = dict(options or {})
    unknown = sorted(set(data) - set(SLOT_OPTIONS))
    if unknown:
        raise InvalidInputError(
            f"unknown slot option(s) {', '.join(unknown)}; use: {', '.join(SLOT_OPTIONS)}"
        )
    if data.get("runtime", "auto") not in ("auto", "native", "compiled"):
        raise InvalidInputError(f"slot runtime {data['runtime']!r}: use auto, native or compiled")
    if "trust_pickle" in data and not isinstance(data["trust_pickle"], bool):
        raise InvalidInputError(
            f"slot option trust_pickle must be true or false, got {data['trust_pickle']!r}"
        )
    return {key: value for key, value in data.items() if value is not None}


def _check_idle(record: DeploymentRecord) -> None:
    if record.state in RUNNING:
        strategy = record.policy.get("strategy")
        candidate = record.candidate.ref if record.candidate else "?"
        raise ConflictError(
            f"deployment {record.name!r} already has a {strategy} rollout of {candidate} running "
            f"(state {record.state}); finish it with `slipway rollback {record.name}` or let it complete"
        )


def _iso(now: datetime | None) -> str:
    return utc_now_iso() if now is None else now.isoformat(timespec="microseconds").replace("+00:00", "Z")
