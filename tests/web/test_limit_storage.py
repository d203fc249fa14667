"""Rate-limit counters in the database (web/limit_storage.py), shared by every app process."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from assistant.store import Store
from web.limit_storage import DatabaseStorage, rate_limit_hits, rate_limit_keys
from web.limits import RateLimit

from ..conftest import ROOT


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.dispose()


def test_moving_window_counts_refuses_and_frees(store):
    limiter = MovingWindowRateLimiter(DatabaseStorage(store.engine))
    item = parse("3/second")
    assert [limiter.hit(item, "questions", "1.2.3.4") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.hit(item, "questions", "5.6.7.8"), "another client has its own count"
    stats = limiter.get_window_stats(item, "questions", "1.2.3.4")
    assert stats.remaining == 0 and time.time() < stats.reset_time <= time.time() + 1
    assert not limiter.test(item, "questions", "1.2.3.4")
    time.sleep(1.05)
    assert limiter.hit(item, "questions", "1.2.3.4"), "the window moved on"
    assert limiter.get_window_stats(item, "questions", "1.2.3.4").remaining == 2
    limiter.clear(item, "questions", "1.2.3.4")
    assert limiter.get_window_stats(item, "questions", "1.2.3.4").remaining == 3


def test_fixed_window_counter(store):
    limiter = FixedWindowRateLimiter(DatabaseStorage(store.engine))
    item = parse("2/second")
    assert [limiter.hit(item, "x") for _ in range(3)] == [True, True, False]
    assert limiter.get_window_stats(item, "x").remaining == 0
    time.sleep(1.05)
    assert limiter.hit(item, "x"), "an expired window starts again"
    assert limiter.get_window_stats(item, "x").remaining == 1


def test_expired_rows_are_deleted(store):
    storage = DatabaseStorage(store.engine, cleanup_every=0)
    limiter = MovingWindowRateLimiter(storage)
    for client in ("a", "b", "c"):
        limiter.hit(parse("5/second"), "questions", client)
    FixedWindowRateLimiter(storage).hit(parse("5/second"), "login")

    def rows() -> tuple[int, int]:
        with store.engine.connect() as conn:
            return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (rate_limit_hits, rate_limit_keys))

    assert rows() == (3, 4)
    time.sleep(1.05)
    limiter.hit(parse("5/minute"), "questions", "d")  # a hit deletes what expired
    assert rows() == (1, 1)
    assert storage.reset() == 1 and rows() == (0, 0)
    assert storage.check()


async def _ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_two_app_instances_share_the_count(database_url):
    """Two instances, each with its own connection pool (as two processes): one count."""
    from starlette.testclient import TestClient

    stores = [Store(database_url), Store(database_url)]
    apps = [RateLimit(_ok, rate="3/minute", storage=DatabaseStorage(s.engine)) for s in stores]
    clients = [TestClient(a) for a in apps]
    responses = [clients[n % 2].post("/api/ask", json={"question": "?"}) for n in range(6)]
    for s in stores:
        s.dispose()
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429, 429]
    refused = responses[-1]
    assert refused.headers["Retry-After"].isdigit() and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Trop de questions" in refused.text


_HITS = """
import sys
from limits import parse
from limits.strategies import MovingWindowRateLimiter
from assistant.store import Store
from web.limit_storage import DatabaseStorage
limiter = MovingWindowRateLimiter(DatabaseStorage(Store(sys.argv[1]).engine))
sys.stdin.readline()  # start together
print(sum(limiter.hit(parse("25/minute"), "questions", "10.0.0.1") for _ in range(20)))
"""


def test_processes_hitting_at_once_never_exceed_the_limit(database_url):
    Store(database_url).dispose()  # schema first: the processes only count
    processes = [
        subprocess.Popen([sys.executable, "-c", _HITS, database_url], cwd=ROOT, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    time.sleep(1.5)  # every process imported and connected
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [p.communicate(timeout=120) for p in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
    assert sum(int(out) for out, _ in results) == 25, "60 hits from 3 processes, 25 allowed in all"
