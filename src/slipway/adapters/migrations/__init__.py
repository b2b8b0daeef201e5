r"""Alembic migrations of the registry database, applied by ``sql_engine.upgrade_to_head``.

Every store open upgrades to head, so a new table needs two things: its ``Table`` in
``sql_tables.py`` and a revision here. To write the revision, bring a scratch database to head,
then let Alembic compare it with ``sql_tables.metadata``::

    python -c "from slipway.adapters.factory import open_metadata_store as o; o('sqlite:///dev.db')"
    python -c "from alembic import command; from slipway.adapters.sql_engine import alembic_config; \
        command.revision(alembic_config('sqlite:///dev.db'), 'validation runs', autogenerate=True, \
        rev_id='0002_validation_runs')"

The file is named after ``rev_id``. Review it (name constraints as ``sql_tables`` does), run
``make format``, and keep revisions linear: one head.
"""
