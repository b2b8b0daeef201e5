"""Lookup values from Redis hashes: one pipelined round trip of ``HMGET`` per batch of keys.

The hash of a key is named by the spec's pattern (``"zip:{zip_code}"``), one field per value
column. A hash that lacks any of the fields is a miss. Socket and connect timeouts are the
lookup's timeout, and redis-py's automatic retries are off: a retry would silently double the
time a paused or unreachable server costs.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from slipway.core.errors import InvalidInputError
from slipway.core.settings import Secret, redact_url
from slipway.enrichment.source import Key, LookupSourceError, Row
from slipway.enrichment.spec import LookupSpec, RedisSource


class RedisLookupSource:
    def __init__(self, spec: LookupSpec, url: Secret) -> None:
        if not isinstance(spec.source, RedisSource):
            raise InvalidInputError(f"lookup {spec.name!r} does not have a Redis source")
        self.spec = spec
        self.source = spec.source
        self.queries = 0
        self._where = redact_url(url)
        self._fields = [self.source.field(name) for name in spec.values]
        try:
            self.client = redis.Redis.from_url(
                url,
                socket_timeout=spec.timeout_s,
                socket_connect_timeout=spec.timeout_s,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                decode_responses=True,
            )
        except ValueError as exc:
            raise InvalidInputError(
                f"lookup {spec.name!r}: malformed Redis URL {self._where!r}: {exc}; use redis://HOST:PORT/DB"
            ) from exc

    def _hash_name(self, key: Key) -> str:
        return self.source.key.format(**dict(zip(self.spec.keys, key, strict=True)))

    def fetch(self, keys: Sequence[Key]) -> dict[Key, Row]:
        if not keys:
            return {}
        pipeline = self.client.pipeline(transaction=False)
        for key in keys:
            pipeline.hmget(self._hash_name(key), self._fields)
        self.queries += 1
        try:
            replies = pipeline.execute()
        except redis.RedisError as exc:
            raise LookupSourceError(f"{self._where}: {type(exc).__name__}: {exc}") from exc
        return {
            key: tuple(values)
            for key, values in zip(keys, replies, strict=True)
            if all(value is not None for value in values)
        }

    def ping(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise LookupSourceError(f"{self._where}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self.client.close()
