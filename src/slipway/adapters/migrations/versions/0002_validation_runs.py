"""Validation runs: each run of the gate, with its verdict and the JSON report.

Revision ID: 0002_validation_runs
Revises: 0001_registry
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_validation_runs"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "validation_runs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("plan_digest", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("environment", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("reports", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_validation_runs"),
        sa.ForeignKeyConstraint(
            ["model", "version"],
            ["versions.model", "versions.version"],
            name="fk_validation_runs_model_version_versions",
        ),
    )
    op.create_index("ix_validation_runs_model_version", "validation_runs", ["model", "version"])


def downgrade() -> None:
    op.drop_index("ix_validation_runs_model_version", table_name="validation_runs")
    op.drop_table("validation_runs")
