"""Degraded mode: one row per deployment currently degraded (its history is in the audit log).

Revision ID: 0004_degradations
Revises: 0003_batch_runs
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_degradations"
down_revision: str | Sequence[str] | None = "0003_batch_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "degradations",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("since", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("rule", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_degradations"),
    )


def downgrade() -> None:
    op.drop_table("degradations")
