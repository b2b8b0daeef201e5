"""Online lookups: a scoring ``enrich`` stage doing at most one query per batch, never one per row.

For a batch the stage collects the distinct keys, answers what it can from the TTL cache, asks
the source for the rest in ONE query under the spec's deadline, and fills the value columns per
the miss/error policy. What it did is left in ``batch.notes["lookups"][NAME]`` (keys, cache
hits, queried keys, misses, failure, latency) for responses and metrics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from slipway.enrichment.cache import LookupCache
from slipway.enrichment.deadline import DeadlineRunner
from slipway.enrichment.keys import row_keys, typed_rows
from slipway.enrichment.policy import FAILED, FOUND, MISS, NO_KEY, resolve
from slipway.enrichment.source import Key, LookupSource, LookupSourceError, Row
from slipway.enrichment.spec import LookupSpec
from slipway.scoring.batch import Batch
from slipway.scoring.scorer import Phase

READINESS_TIMEOUT_S = 2.0


class LookupStage:
    """Adds ``spec.values`` columns to each batch from ``source``, keyed by ``spec.keys``."""

    phase: Phase = "enrich"

    def __init__(
        self,
        spec: LookupSpec,
        source: LookupSource,
        *,
        placeholders: Mapping[str, Any] | None = None,
        workers: int = 2,
        cache: LookupCache | None = None,
    ) -> None:
        self.spec = spec
        self.source = source
        self.name = f"lookup:{spec.name}"
        self.provides = tuple(spec.values)
        self.requires = tuple(spec.keys)
        self.placeholders = dict(placeholders or {})
        self.cache = cache or LookupCache(size=spec.cache.size, ttl_s=spec.cache.ttl_s)
        self._runner = DeadlineRunner(workers=workers, name=spec.name)

    def apply(self, batch: Batch) -> None:
        started = time.perf_counter()
        keys = row_keys(self.spec.keys, batch.columns, batch.n_rows, lookup=self.spec.name)
        distinct = list(dict.fromkeys(key for key in keys if key is not None))
        known, wanted = self.cache.get_many(distinct)
        error: str | None = None
        bad: dict[Key, str] = {}
        if wanted:
            try:
                fetched = self._runner.run(lambda: self.source.fetch(wanted), timeout_s=self.spec.timeout_s)
            except LookupSourceError as exc:
                error = str(exc)
            else:
                good, bad = typed_rows(self.spec.values, fetched)
                self.cache.put_many([key for key in wanted if key not in bad], good)
                known.update({key: good.get(key) for key in wanted if key not in bad})
        status, values = self._per_row(keys, known)
        resolved = resolve(
            self.spec,
            keys=keys,
            status=status,
            values=values,
            reasons=bad,
            error=error,
            placeholders=self.placeholders,
        )
        batch.columns.update(resolved.columns)
        for row, flag in resolved.flags:
            batch.flag(row, flag)
        batch.notes.setdefault("lookups", {})[self.spec.name] = {
            "keys": len(distinct),
            "cache_hits": len(distinct) - len(wanted),
            "queried": 0 if error else len(wanted),
            "found": resolved.found,
            "missed": resolved.missed,
            "failed": resolved.failed,
            "error": error,
            "latency_ms": (time.perf_counter() - started) * 1e3,
        }

    def _per_row(
        self, keys: list[Key | None], known: dict[Key, Row | None]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        status = np.empty(len(keys), dtype=np.int8)
        raw = {column: np.empty(len(keys), dtype=object) for column in self.spec.values}
        columns = list(raw.values())
        for index, key in enumerate(keys):
            if key is None:
                status[index] = NO_KEY
            elif key not in known:
                status[index] = FAILED
            elif (row := known[key]) is None:
                status[index] = MISS
            else:
                status[index] = FOUND
                for column, value in zip(columns, row, strict=True):
                    column[index] = value
        return status, raw

    def check_reachable(self, *, timeout_s: float | None = None) -> None:
        """Raise LookupSourceError unless the source answers (for readiness probes).

        Readiness is not on the request path, and a first connection takes longer than a query:
        the default deadline is the lookup's timeout, but at least READINESS_TIMEOUT_S.
        """
        deadline = timeout_s if timeout_s is not None else max(self.spec.timeout_s, READINESS_TIMEOUT_S)
        self._runner.run(self.source.ping, timeout_s=deadline)

    @property
    def queries_running(self) -> int:
        return self._runner.running

    def close(self) -> None:
        self._runner.close()
        self.source.close()
