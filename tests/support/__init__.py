"""Shared test support: fixtures loaded for every test (see ``addopts`` in pyproject.toml)."""
