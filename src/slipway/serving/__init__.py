"""Real-time scoring over HTTP: one Starlette app per served model version.

    request -> protocol parser (v1, Open Inference v2, MLflow) -> micro-batcher -> Scorer
            -> protocol renderer, with metrics, health, a self-probe and the degraded state

The ``Scorer`` (``slipway.scoring``) does everything about the rows (lookups, schema, guards,
runtime); this package only moves requests to it and answers over HTTP.
"""
