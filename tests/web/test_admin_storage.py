"""Admin accounts, tokens, sessions, audit log, documents and jobs in the database, on SQLite and
PostgreSQL (the HTTP side is tests/web/test_admin.py)."""

from __future__ import annotations

import pytest

from assistant.store import Store
from web.admin import Accounts, Library
from web.admin.accounts import MAX_FAILURES_PER_ACCOUNT, LoginRefused

PASSWORD = "Ruche-Connectee-2027!"


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.dispose()


def test_accounts_login_sessions_tokens_and_audit(store):
    accounts = Accounts(store.engine)
    assert accounts.bootstrap_admin(PASSWORD) is True and accounts.bootstrap_admin(PASSWORD) is False
    accounts.create_user("camille.r@exemple.fr", PASSWORD)
    with pytest.raises(ValueError, match="existe déjà"):
        accounts.create_user("admin", PASSWORD)
    assert accounts.usernames() == ["admin", "camille.r@exemple.fr"]

    session_id, identity = accounts.login("admin", PASSWORD, client="203.0.113.9")
    assert identity.actor == "admin" and accounts.session(session_id).csrf_token == identity.csrf_token
    accounts.reset_password("admin", PASSWORD + "x")
    assert accounts.session(session_id) is None, "a new password ends the sessions"
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(LoginRefused) as wrong:
            accounts.login("admin", "mauvais mot de passe", client="203.0.113.9")
        assert wrong.value.status_code == 401
    with pytest.raises(LoginRefused) as locked:
        accounts.login("admin", PASSWORD + "x", client="203.0.113.9")
    assert locked.value.status_code == 429 and locked.value.retry_after == 900

    session_id, _ = accounts.login("camille.r@exemple.fr", PASSWORD, client="203.0.113.9")
    accounts.logout(session_id)
    assert accounts.session(session_id) is None

    label = "ingestion nocturne du catalogue régional " * 4  # cut to the column's 128 characters
    token_id, token = accounts.create_token(label)
    identity = accounts.token(token)
    assert identity is not None and identity.token_id == token_id and accounts.token(token + "x") is None
    entries = accounts.audit_entries(100)
    assert entries[0]["action"] == "création de jeton d'API" and entries[0]["at"].tzinfo is not None
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)


def test_documents_jobs_and_versions(store, tmp_path):
    library = Library(store.engine, tmp_path / "uploads")
    files = []
    for name, text in (("abeilles.md", "# Abeilles"), ("ruches.md", "# Ruches")):
        temp = tmp_path / f"incoming-{name}"
        temp.write_text(text, encoding="utf-8")
        files.append(library.store_file(temp, filename=name, kind="markdown", suffix=".md"))
    # An API token's actor carries its label: longer than the column, it is cut, not refused.
    actor = "jeton n° 12 (" + "x" * 128 + ")"
    job_id, ids, notes = library.add_documents(files, actor=actor)
    assert len(ids) == 2 and notes == [] and library.busy()
    assert library.next_queued()["id"] == job_id
    again, none, notes = library.add_documents(files[:1], actor="admin")
    assert none == [] and "déjà importé" in notes[0] and library.job(again)["status"] == "done"

    assert library.claim(job_id) is True and library.claim(job_id) is False
    library.update_job(job_id, progress={"stage": "calcul des passages", "percent": 40})
    job = library.job(job_id)
    assert job["status"] == "running" and job["progress"]["percent"] == 40 and job["document_ids"] == ids
    assert job["created_by"] == actor[:128]
    assert library.running_elsewhere() is False, "this process runs it"
    library.update_job(job_id, status="done", errors=[])
    library.record_version(5, ids)
    library.record_version(6, ids[:1])
    assert library.version_documents() == {5: sorted(ids), 6: ids[:1]}
    with store.engine.begin() as conn:
        from web.admin.library import documents

        conn.execute(documents.update().values(status="active"))
    library.apply_version(6)
    assert {d["id"]: d["status"] for d in library.documents()} == {ids[0]: "active", ids[1]: "withdrawn"}
    assert [d["id"] for d in library.documents(statuses=("active",))] == [ids[0]]
    assert library.active_with_sha(files[0].sha256)["id"] == ids[0]

    stale = library.queue_job("reindex", actor="admin")
    library.claim(stale)
    library.update_job(stale, worker="autre-machine:1", heartbeat_at=None)
    temp = tmp_path / "incoming-guepes.md"
    temp.write_text("# Guêpes", encoding="utf-8")
    dead, (pending,), _ = library.add_documents([library.store_file(temp, filename="guepes.md", kind="markdown", suffix=".md")], actor="admin")
    library.claim(dead)
    library.update_job(dead, worker="autre-machine:2", heartbeat_at=None)
    assert library.fail_interrupted() == 2
    assert library.job(stale)["status"] == "failed" and "interrompu" in library.job(stale)["errors"][0]
    assert library.document(pending)["status"] == "rejected", "an interrupted upload's documents are rejected"
    assert library.document(ids[0])["status"] == "active"
    assert [j["id"] for j in library.recent_jobs(4)] == [dead, stale, again, job_id]
