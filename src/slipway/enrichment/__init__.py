"""Enrichment lookups: key columns of a request -> value columns from a SQL table or a Redis hash.

A lookup is declared once (``spec``), stored in the artifact or given at deployment, and run the
same way everywhere: online as a scoring ``enrich`` stage doing one query per batch with a
deadline and a TTL cache (``online``), in batch scoring as a join (``join``). Misses and
failures follow the declared policy through one shared function (``policy``), so online and
batch answers agree. The database clients live in ``slipway.adapters`` behind ``LookupSource``.
"""
