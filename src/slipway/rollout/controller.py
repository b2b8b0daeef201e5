"""How a deployment moves: pure transitions from one record to the next, with their audit action.

The service applies a transition with compare-and-set on the generation it was computed from,
so running the controller in several workers or replicas at once is safe: one wins, the others
see a stale generation and do nothing. Applying the same verdict twice cannot advance two steps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from slipway.core.deployment import DeploymentRecord, DeploymentState
from slipway.rollout.analysis import Decision, Verdict
from slipway.rollout.policy import Policy, Strategy

STARTED = {
    Strategy.CANARY: "rollout.started",
    Strategy.BLUE_GREEN: "rollout.started",
    Strategy.AB: "ab.started",
    Strategy.SHADOW: "shadow.started",
}


@dataclass(frozen=True, slots=True)
class Transition:
    record: DeploymentRecord
    action: str
    after: dict[str, Any]


def after_verdict(record: DeploymentRecord, policy: Policy, verdict: Verdict, now: str) -> Transition | None:
    """The canary's next state for an analysis verdict; None to keep holding."""
    if record.state is not DeploymentState.ROLLING or policy.strategy is not Strategy.CANARY:
        return None
    summary = {"analysis": verdict.to_dict()}  # the checks, and what each slot did in this step
    if verdict.decision is Decision.ROLLBACK:
        return ended(
            record, policy, now, promoted=False, details={"reasons": list(verdict.reasons), **summary}
        )
    if verdict.decision is Decision.HOLD:
        return None
    if record.step < policy.last_analyzed_step:
        return advanced(record, policy, now, details=summary)
    if policy.approval:
        waiting = dataclasses.replace(record, state=DeploymentState.AWAITING_APPROVAL)
        after = {"awaiting": "approval", "next_percent": policy.steps[-1], **summary}
        return Transition(waiting, "rollout.held", after)
    return ended(record, policy, now, promoted=True, details=summary)


def advanced(
    record: DeploymentRecord, policy: Policy, now: str, *, details: dict[str, Any] | None = None
) -> Transition:
    step = record.step + 1
    moved = dataclasses.replace(record, step=step, step_started_at=now, state=DeploymentState.ROLLING)
    after = {"step": step, "percent": policy.steps[step], "from_percent": policy.steps[record.step]}
    return Transition(moved, "rollout.step_promoted", {**after, **(details or {})})


def approved(record: DeploymentRecord, policy: Policy, now: str) -> Transition:
    """After approval the last step (100%) completes the rollout."""
    done = ended(record, policy, now, promoted=True, details={"approved": True})
    return Transition(done.record, "rollout.approved", done.after)


def switched(record: DeploymentRecord) -> Transition:
    after = {"version": _version(record), "previous": record.stable.version}
    return Transition(dataclasses.replace(record, state=DeploymentState.SWITCHED), "rollout.switched", after)


def ended(
    record: DeploymentRecord,
    policy: Policy,
    now: str,
    *,
    promoted: bool,
    details: dict[str, Any] | None = None,
) -> Transition:
    """End any rollout: the candidate becomes stable (promoted) or is dropped (rolled back)."""
    if promoted and record.candidate is None:
        raise ValueError("only a deployment with a candidate can be promoted")
    stable = record.candidate if promoted and record.candidate is not None else record.stable
    single = {"strategy": str(Strategy.SINGLE), "salt": policy.salt}
    done = dataclasses.replace(
        record, stable=stable, candidate=None, policy=single, state=DeploymentState.STABLE, step=0,
        step_started_at=now,
    )  # fmt: skip
    result = "promoted" if promoted else "rolled_back"
    after = {"result": result, "strategy": str(policy.strategy), "stable": stable.version, **(details or {})}
    if policy.strategy in (Strategy.AB, Strategy.SHADOW):
        action = f"{policy.strategy}.stopped"
    elif promoted:
        action = "rollout.retired" if record.state is DeploymentState.SWITCHED else "rollout.promoted"
    else:
        action = "rollout.rolled_back"
    after["candidate"] = _version(record)
    return Transition(done, action, after)


def _version(record: DeploymentRecord) -> int | None:
    return record.candidate.version if record.candidate is not None else None
