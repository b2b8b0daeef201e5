"""Batch scoring runs: one row per finished ``slipway score`` run.

Revision ID: 0003_batch_runs
Revises: 0002_validation_runs
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_batch_runs"
down_revision: str | Sequence[str] | None = "0002_validation_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("input_fingerprint", sa.String(64), nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("output_digest", sa.String(64), nullable=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("rows_in", sa.BigInteger, nullable=False),
        sa.Column("rows_out", sa.BigInteger, nullable=False),
        sa.Column("rows_flagged", sa.BigInteger, nullable=False),
        sa.Column("rows_rejected", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_batch_runs"),
    )
    op.create_index("ix_batch_runs_model", "batch_runs", ["model"])


def downgrade() -> None:
    op.drop_index("ix_batch_runs_model", table_name="batch_runs")
    op.drop_table("batch_runs")
