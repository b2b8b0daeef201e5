"""The guarded example artifacts (``support.guarded``), shared by the guard tests."""

from support.guarded import guarded_apartments, guarded_credit

__all__ = ["guarded_apartments", "guarded_credit"]
