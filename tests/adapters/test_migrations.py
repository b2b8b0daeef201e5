"""The Alembic revisions and the tables the code queries describe the same schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from slipway.adapters.sql_metadata import SqlMetadataStore
from slipway.adapters.sql_tables import VERSION_TABLE, metadata


def test_migrated_schema_matches_the_table_definitions(sql_url: str) -> None:
    store = SqlMetadataStore.open(sql_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)
        head = connection.execute(sa.text("SELECT seq, hash FROM audit_head")).all()
    store.close()
    assert differences == []
    assert head == [(0, "0" * 64)]
