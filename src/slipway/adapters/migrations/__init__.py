"""Alembic migrations of the registry database, applied by ``slipway.adapters.migration``."""
