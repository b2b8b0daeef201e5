"""Release strategies: traffic policies, sticky routing, canary analysis, A/B readouts, shadow.

The policy, routing, analysis and statistics modules are pure (no I/O), so the server, the
controller and the tests apply exactly the same rules; ``service`` reads and writes deployments
through the registry.
"""
