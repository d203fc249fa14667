"""Alembic environment of Orientia's relational store.

Run programmatically by ``assistant.migrations.upgrade`` with an open connection (no alembic.ini):
the caller holds the migration lock and commits. Imported outside Alembic (a test importing every
module), it does nothing.
"""

from __future__ import annotations

from alembic import context


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Run migrations through assistant.migrations.upgrade(engine)")
    context.configure(
        connection=connection,
        # SQLite alters tables by copying them: later revisions use op.batch_alter_table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "config", None) is not None:  # run by Alembic, not merely imported
    run_migrations()
