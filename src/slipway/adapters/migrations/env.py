"""Alembic environment for the registry database.

slipway runs migrations itself (``slipway.adapters.migration.upgrade``) and hands over an open
connection, already inside the transaction that holds the migration lock, in
``config.attributes["connection"]``. The ``alembic`` command line works too, given
``-x url=...`` or ``sqlalchemy.url``, for writing new revisions with ``--autogenerate``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from slipway.adapters.sql_tables import VERSION_TABLE, metadata

config = context.config


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        **kwargs,
    )


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or str(
        config.get_main_option("sqlalchemy.url")
    )


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as own:
        _configure(connection=own)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
