"""Which slot answers a request: a pure function of the policy, the user key and a random draw.

A request with a user key is placed by hashing (deployment, salt, key) to a point in [0, 1), so
the same user lands on the same slot in every worker, on every replica and after restarts. The
candidate takes the points below its share, so raising a canary's share only moves users from
stable to candidate, never back. A request without a key uses ``draw`` (uniform in [0, 1)).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from slipway.core.deployment import CANDIDATE, STABLE, DeploymentRecord
from slipway.rollout.policy import Policy, candidate_percent, mirror_percent, parse_policy

_SCALE = float(1 << 64)


@dataclass(frozen=True, slots=True)
class Traffic:
    """All routing needs of a deployment: its identity, salt and the two shares (percent)."""

    deployment: str
    salt: str
    candidate_percent: float = 0.0
    mirror_percent: float = 0.0

    @classmethod
    def of(cls, record: DeploymentRecord, policy: Policy | None = None) -> Traffic:
        policy = policy or parse_policy(record.policy)
        return cls(
            deployment=record.name,
            salt=policy.salt,
            candidate_percent=candidate_percent(record, policy),
            mirror_percent=mirror_percent(record, policy),
        )


def bucket(deployment: str, salt: str, user_key: str) -> float:
    """The user's fixed point in [0, 1) for this deployment and salt."""
    text = f"{deployment}\x1f{salt}\x1f{user_key}".encode()
    digest = hashlib.blake2b(text, digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def route(traffic: Traffic, user_key: str | None, draw: float) -> str:
    """``"candidate"`` or ``"stable"`` for one request."""
    if traffic.candidate_percent <= 0:
        return STABLE
    if traffic.candidate_percent >= 100:
        return CANDIDATE
    point = draw if user_key is None else bucket(traffic.deployment, traffic.salt, user_key)
    return CANDIDATE if point * 100 < traffic.candidate_percent else STABLE


def mirrors(traffic: Traffic, draw: float) -> bool:
    """Whether a request answered by stable is also copied to the candidate (shadow)."""
    return traffic.mirror_percent > 0 and draw * 100 < traffic.mirror_percent
