"""The lookup cache: cachetools' TTL cache behind a lock, remembering misses too.

A miss is cached like a hit (for the same TTL), so a flood of unknown keys does not turn into a
flood of queries; a key added to the table is seen at the latest one TTL later. Failures are
never cached: the next batch asks again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from cachetools import TTLCache

from slipway.enrichment.source import Key, Row

_ABSENT = ("<absent>",)  # a cached miss; a tuple so the cache holds one type of value


class LookupCache:
    def __init__(self, *, size: int, ttl_s: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache[Key, Row] | None = (
            TTLCache(maxsize=size, ttl=ttl_s, timer=timer) if size > 0 else None
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Iterable[Key]) -> tuple[dict[Key, Row | None], list[Key]]:
        """(cached answers, None meaning a known miss; keys to ask the source for)."""
        if self._cache is None:
            wanted = list(keys)
            self.misses += len(wanted)
            return {}, wanted
        known: dict[Key, Row | None] = {}
        wanted = []
        with self._lock:
            for key in keys:
                row = self._cache.get(key)
                if row is None:
                    wanted.append(key)
                else:
                    known[key] = None if row is _ABSENT else row
            self.hits += len(known)
            self.misses += len(wanted)
        return known, wanted

    def put_many(self, asked: Iterable[Key], found: Mapping[Key, Row]) -> None:
        if self._cache is None:
            return
        with self._lock:
            for key in asked:
                self._cache[key] = found.get(key, _ABSENT)

    def clear(self) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache.clear()

    def __len__(self) -> int:
        return 0 if self._cache is None else len(self._cache)
