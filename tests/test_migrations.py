"""Schema migrations (assistant/migrations) on SQLite and PostgreSQL: fresh, adopted, concurrent."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from assistant import migrations
from assistant.store import Store

from .conftest import ROOT


def _models() -> sa.MetaData:
    """Every table the code queries, from the modules that define them."""
    from assistant import store
    from web import limit_storage
    from web.admin import accounts, library

    combined = sa.MetaData()
    for module in (store, accounts, library, limit_storage):
        for table in module.metadata.tables.values():
            table.to_metadata(combined)
    return combined


def _old_models() -> sa.MetaData:
    """The tables ``create_all`` made before migrations existed (no rate-limit tables, no
    observation codes, no leases)."""
    from assistant import store
    from web.admin import accounts, library

    old = sa.MetaData()
    for module in (store, accounts, library):
        for table in module.metadata.tables.values():
            if table.name not in ("observation_codes", "leases"):
                table.to_metadata(old)
    return old


def test_a_new_database_is_upgraded_to_head_and_matches_the_code(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = Store(database_url)
    assert migrations.current(store.engine) == migrations.head() == "0004_leases"
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), _models())
    store.dispose()
    assert differences == [], "the migrations and the tables of the code disagree"
    assert migrations.upgrade(Store(database_url).engine) is False, "a database at head is left as it is"


def test_a_database_made_by_create_all_is_adopted_without_loss(database_url):
    engine = sa.create_engine(database_url)
    old = _old_models()
    # The oldest create_all: the jobs table from before jobs had a worker and a heartbeat.
    jobs = old.tables["jobs"]
    old.remove(jobs)
    old.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, "
            "created_by VARCHAR(128) NOT NULL, created_at TIMESTAMP NOT NULL, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, document_ids TEXT NOT NULL, progress TEXT NOT NULL, errors TEXT NOT NULL, "
            "message TEXT NOT NULL, version INTEGER)"
        ))
        conn.execute(sa.text(
            "INSERT INTO jobs VALUES (7, 'upload', 'done', 'admin', :now, NULL, NULL, '[3]', '{}', '[]', '', 2)"
        ), {"now": now})
        conn.execute(old.tables["conversations"].insert().values(id="c1", created_at=now, updated_at=now, state='{"a": 1}'))
        conn.execute(old.tables["admin_users"].insert().values(username="admin", password_hash="h", created_at=now, updated_at=now))
        conn.execute(old.tables["observations"].insert().values(
            created_at=now, conversation_key="k", turn=1, answered=True, department="59", language="fr",
            latency_ms=1.0, unmet="", data='{"topics": ["training", "funding"], "trainings": ["F1"]}',
        ))
    engine.dispose()

    store = Store(database_url)
    assert migrations.current(store.engine) == migrations.head()
    assert store.load_conversation("c1", max_age_hours=1) == {"a": 1}
    from web.admin import Accounts, Library

    assert Accounts(store.engine).usernames() == ["admin"]
    job = Library(store.engine, ROOT).job(7)
    assert job is not None and job["document_ids"] == [3] and job["worker"] == "" and job["heartbeat_at"] is None
    inspector = sa.inspect(store.engine)
    assert {"rate_limit_hits", "rate_limit_keys"} <= set(inspector.get_table_names())
    # The records already there are counted from their codes, copied out of their JSON.
    from assistant.observatory import ObservatoryFilters, build_report

    report = build_report(store, ObservatoryFilters(department="59"), public=False)
    assert {c.key: c.count for c in report.topics} == {"training": 1, "funding": 1}
    assert [c.key for c in report.trainings] == ["F1"] and report.questions_total == 1
    store.dispose()


_OPEN = "import sys; from assistant.store import Store; Store(sys.argv[1]).dispose(); print('ok')"


def test_processes_starting_together_upgrade_once(database_url):
    """Several app processes start on a new database at the same moment: one upgrades."""
    processes = [
        subprocess.Popen([sys.executable, "-c", _OPEN, database_url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0 and out.strip() == "ok", err
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [migrations.head()]
    engine.dispose()


def test_a_create_all_database_with_leases_keeps_them(database_url):
    """Databases made by create_all once the index write lease existed (before migrations)."""
    from assistant import store as store_module

    engine = sa.create_engine(database_url)
    old = _old_models()
    store_module.leases.to_metadata(old)
    old.create_all(engine)
    until = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(old.tables["leases"].insert().values(name="index", holder="hôte:42", expires_at=until))
    engine.dispose()
    store = Store(database_url)
    assert migrations.current(store.engine) == migrations.head()
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(store_module.leases.c.holder)).scalars().all() == ["hôte:42"]
    store.dispose()
