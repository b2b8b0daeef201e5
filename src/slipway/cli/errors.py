"""Exit codes by exception class: the only place errors become process exit statuses."""

from __future__ import annotations

from slipway.core.errors import (
    ConflictError,
    GateFailedError,
    GuardRejectedError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    SlipwayError,
    StoreError,
)

# Checked in order: the first class the error is an instance of gives its code.
EXIT_CODES: tuple[tuple[type[SlipwayError], int], ...] = (
    (InvalidInputError, 2),
    (NotFoundError, 3),
    (ConflictError, 4),
    (IntegrityError, 5),
    (StoreError, 6),
    (GateFailedError, 7),
    (GuardRejectedError, 8),
    (SlipwayError, 1),
)


def exit_code_for(error: SlipwayError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1
