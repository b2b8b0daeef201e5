"""Open the source a lookup spec names: a SQL database or a Redis server.

The URL comes from the environment variable the spec names (``url_env``), else from the spec
itself; it is passed on as a ``Secret`` and only ever shown redacted.
"""

from __future__ import annotations

from collections.abc import Mapping

from slipway.enrichment.source import LookupSource
from slipway.enrichment.spec import LookupSpec, SqlSource


def open_lookup_source(
    spec: LookupSpec, *, environ: Mapping[str, str] | None = None, pool_size: int = 2
) -> LookupSource:
    url = spec.source.resolve_url(environ)
    if isinstance(spec.source, SqlSource):
        from slipway.adapters.lookup_sql import SqlLookupSource

        return SqlLookupSource(spec, url, pool_size=pool_size)
    from slipway.adapters.lookup_redis import RedisLookupSource

    return RedisLookupSource(spec, url)
