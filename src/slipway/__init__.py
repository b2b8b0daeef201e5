"""slipway: take trained models to production safely, and keep them safe there.

Importing this package is cheap: the registry database, the server stack and the batch engines
are imported only when a function that needs them is called.
"""

from __future__ import annotations

__version__ = "0.1.0"
