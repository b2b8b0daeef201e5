"""Runtime guards: fitted when the artifact is built, applied wherever the model scores.

- ``config``: what the user asks for (``slipway.build(guards=...)``, ``--guards FILE``), checked
  at build time;
- ``step``: the build step fitting them into ``profile/guards/``;
- ``domain``, ``anomaly``, ``conformal``, ``output``: the guards, each a scorer stage;
- ``fallback``: the fallback model or rule, and the stage that lets it answer;
- ``degraded``: degraded mode of a deployment, and the rule that enters it automatically;
- ``stages.guard_stages``: the one function every scoring path gets its guard stages from.
"""
