"""Canonical JSON: the one byte form used for every hash slipway computes over structured data."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def to_canonical_json(value: Any) -> bytes:
    """Serialise ``value`` with sorted keys, no whitespace, UTF-8 and no NaN/Infinity.

    Equal values give equal bytes, so hashes of manifests and audit events are stable across
    processes, machines and Python versions.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
