"""The pure domain of slipway: references, manifests, schemas, audit chain, errors and protocols.

Nothing in here performs I/O beyond reading bytes handed to it, and nothing imports a
third-party engine (SQLAlchemy, fsspec, pyspark, the server stack).
"""
