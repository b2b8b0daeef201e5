"""Deployments: traffic policies with compare-and-set generations, per-slot stats windows,
exposures and outcomes.

Revision ID: 0005_deployments
Revises: 0004_degradations
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_deployments"
down_revision: str | Sequence[str] | None = "0004_degradations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("slots", sa.JSON, nullable=False),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("step_started_at", sa.String(40), nullable=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_deployments"),
    )
    op.create_table(
        "deployment_stats",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("slot", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("window_start", sa.String(40), nullable=False),
        sa.Column("window_end", sa.String(40), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("flagged", sa.BigInteger, nullable=False),
        sa.Column("latency_counts", sa.JSON, nullable=False),
        sa.Column("predictions", sa.JSON, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_stats"),
    )
    op.create_index(
        "ix_deployment_stats_deployment_window_end", "deployment_stats", ["deployment", "window_end"]
    )
    op.create_table(
        "exposures",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("slot", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("user_key", sa.String(200), nullable=True),
        sa.Column("prediction", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_exposures"),
    )
    op.create_index("ix_exposures_deployment_user_key", "exposures", ["deployment", "user_key"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("user_key", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
    )
    op.create_index("ix_outcomes_deployment", "outcomes", ["deployment"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_deployment", table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index("ix_exposures_deployment_user_key", table_name="exposures")
    op.drop_table("exposures")
    op.drop_index("ix_deployment_stats_deployment_window_end", table_name="deployment_stats")
    op.drop_table("deployment_stats")
    op.drop_table("deployments")
