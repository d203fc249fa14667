"""Index writes among processes: the database lease, its expiry, a dead holder, waiting or not."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from assistant import Index
from assistant.index import WRITE_LEASE, IndexBusy
from assistant.store import Store, process_id

from ..conftest import make_settings


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


def _dead_process_id() -> str:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    host = process_id().rpartition(":")[0]
    return f"{host}:{child.stdout.strip()}"


def test_one_holder_at_a_time_across_connections(url):
    first, second = Store(url), Store(url)
    assert first.acquire_lease("job", "host-a:1", 30)
    assert not second.acquire_lease("job", "host-b:2", 30)
    assert second.lease_holder("job") == "host-a:1"
    assert first.acquire_lease("job", "host-a:1", 30), "the holder may renew"
    first.release_lease("job", "host-a:1")
    assert second.lease_holder("job") is None
    assert second.acquire_lease("job", "host-b:2", 30)
    first.dispose()
    second.dispose()


def test_an_expired_lease_or_a_dead_holder_frees_it(url):
    store = Store(url)
    assert store.acquire_lease("job", "elsewhere:1", 0.05)
    time.sleep(0.1)
    assert store.lease_holder("job") is None
    assert store.acquire_lease("job", "other:2", 30)

    dead = _dead_process_id()  # a process of this machine that has exited: killed mid-ingest
    assert store.acquire_lease("ingest", dead, 3600)
    assert store.lease_holder("ingest") is None
    assert store.acquire_lease("ingest", process_id(), 30)
    store.dispose()


def test_racing_processes_get_the_lease_once(url):
    Store(url).dispose()  # schema ready
    script = (
        "import sys; from assistant.store import Store; "
        "s = Store(sys.argv[1]); print(s.acquire_lease('race', sys.argv[2], 60))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, url, f"racer:{i}"], stdout=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    results = [r.communicate(timeout=120)[0].strip() for r in runs]
    assert sorted(results) == ["False", "False", "False", "True"], results


def test_an_index_write_waits_for_another_process_or_says_so(tmp_path, embedder):
    settings = make_settings(tmp_path / "data")
    index = Index(settings, embedder=embedder)
    other = Store(settings.sqlalchemy_url)
    assert other.acquire_lease(WRITE_LEASE, "other-machine:42", 60)

    with pytest.raises(IndexBusy) as caught:
        with index.writing(wait=0):
            pass
    assert caught.value.status_code == 503 and "import" in caught.value.message

    # A version the other process is building is not a crash: the clean-up leaves it alone.
    version, _ = other.begin_version(collection_prefix="orientia", embedding_model="e5")
    index.cleanup_crashed()
    assert [v["id"] for v in other.stale_building_versions()] == [version]

    # Released during the wait: the write goes ahead; re-entrant in the same thread.
    threading.Timer(0.5, other.release_lease, args=(WRITE_LEASE, "other-machine:42")).start()
    with index.writing(wait=30):
        with index.writing(wait=0):
            assert other.lease_holder(WRITE_LEASE) == process_id()
        index.cleanup_crashed()  # now nobody else writes: the half-built version goes
    assert other.stale_building_versions() == []
    assert other.lease_holder(WRITE_LEASE) is None
    other.dispose()
    index.close()
