"""The ``slipway`` command: thin calls into ``slipway.api``."""
