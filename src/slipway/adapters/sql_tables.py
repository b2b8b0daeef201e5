"""The registry's tables, as SQLAlchemy Core metadata.

This is the schema *at head*, used by the queries in ``sql_metadata`` and by Alembic's
autogenerate. The database itself is only ever changed by the revisions in ``migrations/``; a
new table (validation runs, deployments, batch runs) gets both a ``Table`` here and a revision.
"""

from __future__ import annotations

import sqlalchemy as sa

NAME_LENGTH = 100
TIME_LENGTH = 40
HASH_LENGTH = 64
VERSION_TABLE = "slipway_alembic_version"  # Alembic's bookkeeping, named so it cannot clash

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("created_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("model", sa.String(NAME_LENGTH), sa.ForeignKey("models.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("flavor", sa.String(50), nullable=False),
    sa.Column("task", sa.String(50), nullable=False),
    sa.UniqueConstraint("model", "digest"),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("model", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["model", "version"], ["versions.model", "versions.version"]),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("model", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["model", "version"], ["versions.model", "versions.version"]),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False, index=True),
    sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("prev_hash", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("hash", sa.String(HASH_LENGTH), nullable=False),
)

# One row (id 1): the newest event's seq and hash, or (0, GENESIS_HASH) for an empty log. Every
# write transaction locks this row first, which is what makes the chain linear.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(HASH_LENGTH), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# One row per run of the validation gate. ``results`` holds the JSON report, the source of truth.
validation_runs = sa.Table(
    "validation_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("plan_digest", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),
    sa.Column("started_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("finished_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Column("reports", sa.JSON, nullable=False),
    sa.ForeignKeyConstraint(["model", "version"], ["versions.model", "versions.version"]),
    sa.Index("ix_validation_runs_model_version", "model", "version"),
)

# One row per finished batch scoring run (``slipway score``), completed or failed.
batch_runs = sa.Table(
    "batch_runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("model", sa.String(NAME_LENGTH), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("digest", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("engine", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("input_fingerprint", sa.String(HASH_LENGTH), nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("output_digest", sa.String(HASH_LENGTH), nullable=True),
    sa.Column("started_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("finished_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("rows_in", sa.BigInteger, nullable=False),
    sa.Column("rows_out", sa.BigInteger, nullable=False),
    sa.Column("rows_flagged", sa.BigInteger, nullable=False),
    sa.Column("rows_rejected", sa.BigInteger, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("options", sa.JSON, nullable=False),
)

# One row per deployment. ``generation`` grows by one on every update; updates name the
# generation they read (compare-and-set), so concurrent workers never lose each other's change.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("slots", sa.JSON, nullable=False),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("step_started_at", sa.String(TIME_LENGTH), nullable=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("updated_at", sa.String(TIME_LENGTH), nullable=False),
)

# Per-slot counters each serving worker flushes every few seconds; analysis sums them.
deployment_stats = sa.Table(
    "deployment_stats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deployment", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("slot", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(100), nullable=False),
    sa.Column("window_start", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("window_end", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("flagged", sa.BigInteger, nullable=False),
    sa.Column("latency_counts", sa.JSON, nullable=False),
    sa.Column("predictions", sa.JSON, nullable=False),
    sa.Column("extra", sa.JSON, nullable=False),
    sa.Index("ix_deployment_stats_deployment_window_end", "deployment", "window_end"),
)

# Which slot and version answered each request (A/B exposures, "what served request X?").
exposures = sa.Table(
    "exposures",
    metadata,
    sa.Column("request_id", sa.String(HASH_LENGTH), primary_key=True),
    sa.Column("deployment", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("slot", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("user_key", sa.String(200), nullable=True),
    sa.Column("prediction", sa.Float, nullable=True),
    sa.Index("ix_exposures_deployment_user_key", "deployment", "user_key"),
)

# Feedback: the observed outcome of a request or of a user, joined to exposures for readouts.
outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deployment", sa.String(NAME_LENGTH), nullable=False, index=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("at", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("request_id", sa.String(HASH_LENGTH), nullable=True),
    sa.Column("user_key", sa.String(200), nullable=True),
)

# One row per deployment in degraded mode (deleted when it is restored); history is in the audit log.
degradations = sa.Table(
    "degradations",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("since", sa.String(TIME_LENGTH), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("rule", sa.JSON, nullable=True),
)
