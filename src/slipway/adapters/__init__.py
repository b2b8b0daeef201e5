"""The only place that talks to the outside world: SQLAlchemy, fsspec, Redis, pyspark, HTTP clients."""
