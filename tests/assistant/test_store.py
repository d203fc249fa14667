"""The relational store over each database it supports (SQLite and PostgreSQL), and its start."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assistant.store import DatabaseUnavailable, Store


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.dispose()


def test_index_versions_switch_roll_back_and_purge(store):
    v1, name1 = store.begin_version(collection_prefix="orientia", embedding_model="e5-small")
    assert name1 == f"orientia-v{v1}"
    long_key = "document:" + "é" * 240  # the longest keys the columns hold, accents included
    store.write_version_content(
        v1,
        [{"key": long_key, "kind": "document", "source_file": "a/" * 200 + "b.md", "data": {"titre": "Été"}}],
        [{"id": "c" * 300, "text": "passage"}, {"id": "c2", "text": "second"}],
    )
    assert store.active_version() is None
    assert [v["id"] for v in store.stale_building_versions()] == [v1]
    store.activate_version(v1, stats={"records": 1})
    assert store.active_version()["id"] == v1
    assert store.load_records(v1) == [{"key": long_key, "kind": "document", "source_file": "a/" * 200 + "b.md", "data": {"titre": "Été"}}]
    assert [c["id"] for c in store.load_chunks(v1)] == ["c" * 300, "c2"]

    v2, _ = store.begin_version(collection_prefix="orientia", embedding_model="e5-small")
    store.write_version_content(v2, [], [{"id": "n", "text": "nouveau"}])
    retired = store.activate_version(v2, stats={})
    assert [r["id"] for r in retired] == [v1]
    assert [(v["id"], v["status"]) for v in store.list_versions()] == [(v2, "active"), (v1, "retired")]
    assert store.rollback(v1) == {"version": v1, "previous": v2}
    assert store.active_version()["id"] == v1
    with pytest.raises(LookupError):
        store.rollback(v1)

    v3, name3 = store.begin_version(collection_prefix="orientia", embedding_model="e5-small")
    store.fail_version(v3)
    assert store.stale_building_versions() == []
    stale = store.purge_versions(v1, keep_retired=0)
    assert set(stale) == {f"orientia-v{v2}", name3}
    assert store.load_chunks(v2) == [] and [c["id"] for c in store.load_chunks(v1)] == ["c" * 300, "c2"]


def test_conversations_turns_and_selections(store):
    assert store.load_conversation("abc", max_age_hours=24) is None
    store.save_conversation("abc", {"profile": {"role": "comptable"}})
    store.save_conversation("abc", {"profile": {"role": "assistant RH"}})
    assert store.load_conversation("abc", max_age_hours=24) == {"profile": {"role": "assistant RH"}}
    assert [store.add_turn("abc", question=f"q{i}", answer={"answer": i}) for i in range(3)] == [1, 2, 3]
    turns = store.load_turns("abc")
    assert [(t["position"], t["question"], t["answer"]) for t in turns] == [(1, "q0", {"answer": 0}), (2, "q1", {"answer": 1}), (3, "q2", {"answer": 2})]
    assert all(t["created_at"].tzinfo is not None for t in turns)
    store.save_selection("abc", ["F2", "F1"])
    assert store.load_selection("abc") == ["F2", "F1"]
    store.save_selection("abc", ["F3"])
    assert store.load_selection("abc") == ["F3"]
    store.forget_thread("abc")
    assert store.load_turns("abc") == [] and store.load_selection("abc") == []

    store.add_turn("abc", question="q", answer={})
    store.save_selection("abc", ["F1"])
    assert store.purge_conversations(max_age_hours=24) == 0
    assert store.purge_conversations(max_age_hours=0) == 1
    assert store.load_conversation("abc", max_age_hours=24) is None
    assert store.load_turns("abc") == [] and store.load_selection("abc") == []


def test_processes_writing_one_conversation_at_once_never_collide(store, database_url):
    """Two app processes answer the same new conversation: one row, the last state, no error."""
    other = Store(database_url)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def save(n: int) -> None:
        target = store if n % 2 else other
        try:
            barrier.wait()
            target.save_conversation("shared", {"n": n})
            target.save_feedback(conversation_key="k", turn=1, useful=bool(n % 2), reason=None, comment=str(n))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM feedback")).scalar() == 1


def test_feedback_replaces_and_keeps_its_first_time(store):
    assert store.save_feedback(conversation_key="k", turn=1, useful=False, reason="autre", comment="a") is True
    first = store.load_feedback()[0]["created_at"]
    assert store.save_feedback(conversation_key="k", turn=1, useful=True, reason=None, comment="b") is False
    rows = store.load_feedback()
    assert [(r["turn"], r["useful"], r["comment"], r["created_at"]) for r in rows] == [(1, True, "b", first)]
    assert first.tzinfo is not None


def test_observations_filter_and_purge(store):
    now = datetime.now(UTC)
    for n, (department, audience, days) in enumerate([("59", "rh", 0), ("62", "rh", 0), ("59", "eleve", 40)]):
        store.add_observation({
            "created_at": now - timedelta(days=days), "conversation_key": f"k{n}", "turn": 1,
            "audience": audience, "department": department, "answered": True, "latency_ms": 3.0,
            "role_label": "É" * 200, "data": {"topics": ["training"]},
        })
    assert len(store.load_observations()) == 3
    assert [r["conversation_key"] for r in store.load_observations(department="59")] == ["k2", "k0"]
    assert [r["conversation_key"] for r in store.load_observations(audience="rh", department="62")] == ["k1"]
    recent = store.load_observations(since=now - timedelta(days=30))
    assert [r["conversation_key"] for r in recent] == ["k0", "k1"]
    assert recent[0]["data"] == {"topics": ["training"]} and recent[0]["created_at"].tzinfo is not None
    assert store.purge_observatory(before=now - timedelta(days=30)) == (1, 0)


# -- the database unavailable at start ------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_database_is_retried_then_named_in_french():
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        Store(f"postgresql+psycopg://orientia:motdepasse-secret@127.0.0.1:{port}/orientia", connect_seconds=1.5)
    took = time.monotonic() - started
    message = caught.value.message
    assert f"127.0.0.1:{port}" in message and "« orientia »" in message, message
    assert message.startswith("Base de données injoignable") and "après 1,5 s" in message, message
    assert "motdepasse-secret" not in message and "motdepasse-secret" not in str(caught.value)
    assert 1.4 <= took < 10, took


class _LateProxy:
    """A TCP relay to a real server that starts listening only after ``delay`` seconds."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay, self.port = target, delay, _closed_port()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        time.sleep(self.delay)
        with socket.create_server(("127.0.0.1", self.port)) as server:
            server.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(self.target)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)


def test_a_database_that_starts_late_is_waited_for(postgres_database):
    url = sa.make_url(postgres_database)
    proxy = _LateProxy((url.host, url.port), delay=2.0)
    started = time.monotonic()
    try:
        store = Store(url.set(port=proxy.port).render_as_string(hide_password=False), connect_seconds=30)
        took = time.monotonic() - started
        store.save_conversation("tard", {"ok": True})
        assert store.load_conversation("tard", max_age_hours=1) == {"ok": True}
        store.dispose()
    finally:
        proxy.stop()
    assert 1.9 <= took < 20, took
