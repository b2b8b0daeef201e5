"""The serving tests' servers and models (``support.live_server``)."""

from support.live_server import (
    apartments_served,
    credit_record,
    credit_served,
    one_openmp_thread,
    serve_app,
    serve_process,
    zip_db,
)

__all__ = [
    "apartments_served",
    "credit_record",
    "credit_served",
    "one_openmp_thread",
    "serve_app",
    "serve_process",
    "zip_db",
]
