"""Batch scoring: whole datasets through the same scoring path as online, locally or on Spark.

    source (Parquet, CSV, SQL) -> fixed-size parts -> Scorer (stages + runtime) -> Parquet parts
    -> atomic commit -> a run record in the registry

``BatchEngine`` is the protocol; ``LocalBatchEngine`` (worker processes) lives here and
``SparkBatchEngine`` in ``slipway.adapters``. ``Slipway.score`` picks one and records the run.
"""
