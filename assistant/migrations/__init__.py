"""Schema migrations (Alembic) of the relational store: every process upgrades to head at start.

The migration environment is packaged with the code (``env.py``, ``versions/``) and run with an
open connection, without an ``alembic.ini``. Several processes may start together on one
database: the upgrade runs under a lock (PostgreSQL: an advisory lock; SQLite: an exclusive lock
on a file beside the database), and whoever gets the lock after the upgrade finds the schema at
head and does nothing.

A database made by ``metadata.create_all`` before migrations existed (tables, no
``alembic_version``) is adopted by the first revision, which creates only what is missing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

__all__ = ["ADVISORY_LOCK_KEY", "current", "head", "upgrade"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: PostgreSQL advisory lock held while a process upgrades the schema (any fixed 64-bit value).
ADVISORY_LOCK_KEY = 7_382_461_905_112_377_001


def head() -> str:
    """The newest revision of the packaged migrations."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory(str(HERE)).get_current_head()
    assert revision is not None  # the packaged versions/ folder is never empty
    return revision


def current(connectable: sa.Engine | sa.Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(connectable, sa.Connection):
        return MigrationContext.configure(connectable).get_current_revision()
    with connectable.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> bool:
    """Bring the schema to head under the migration lock; True when something was applied."""
    target = head()
    if current(engine) == target:
        return False
    with _locked(engine) as conn:
        before = current(conn)
        if before == target:  # another process upgraded while this one waited for the lock
            conn.rollback()
            return False
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(HERE))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
    log.info("Database schema upgraded from %s to %s", before or "nothing", target)
    return True


@contextlib.contextmanager
def _locked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection holding the migration lock of this database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        with engine.connect() as conn:
            yield conn
        return
    import fcntl

    with open(f"{database}.migrations.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
