"""The scaled deployment for real: a ``chroma run`` server, one shared database, several app
processes (``orientia serve`` twice, then ``--workers 2``), requests alternating between them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from ..conftest import ChromaServer, free_port, stop_process

pytestmark = pytest.mark.chroma_server

QUESTION = "Je suis comptable à Arras, quelles formations IA ?"


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shared(chroma, postgres_database):
    """Several machines: a Chroma server and a PostgreSQL database every process uses."""
    return {"chroma": chroma, "database_url": postgres_database}


@pytest.fixture
def shared_sqlite(chroma, tmp_path):
    """One machine: a Chroma server and one SQLite file for the worker processes."""
    return {"chroma": chroma, "database_url": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}


def _environment(shared, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env.update(
        ORIENTIA_DATA_DIR=str(data_dir), ORIENTIA_CHROMA_URL=shared["chroma"].url,
        ORIENTIA_DATABASE_URL=shared["database_url"], ORIENTIA_RATE_LIMIT="off", ORIENTIA_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
    )
    env.update(extra)
    return env


@contextmanager
def _serve(shared, base: Path, *args: str, **extra: str):
    """One ``orientia serve`` (its own data folder: nothing is shared through local files)."""
    base.mkdir(parents=True)
    port = free_port()
    log_path = base / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--port", str(port), *args],
            cwd=base, env=_environment(shared, base / "data", **extra), stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process, log_path
    finally:
        stop_process(process)


def _wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"not ready after {timeout:.0f} s:\n{log_path.read_text(errors='replace')}")


def _token(shared, base: Path) -> str:
    """An API token made by ``orientia admin create-token`` on a third machine: the database is shared."""
    result = subprocess.run(
        [sys.executable, "-m", "web", "admin", "create-token", "--label", "scaled"],
        cwd=base, env=_environment(shared, base / "cli-data"), capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _admin(url: str, method: str, path: str, token: str):
    response = httpx.request(method, url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    response.raise_for_status()
    return response.json()


def test_two_instances_share_conversations_jobs_and_the_live_index(shared, tmp_path):
    with ExitStack() as stack:
        # Both start together on an empty database: one ingests the bundled knowledge, the other
        # waits for it (the index write lease) instead of building a second version.
        a, process_a, log_a = stack.enter_context(_serve(shared, tmp_path / "a"))
        b, process_b, log_b = stack.enter_context(_serve(shared, tmp_path / "b"))
        _wait_ready(a, process_a, log_a)
        _wait_ready(b, process_b, log_b)
        token = _token(shared, tmp_path)
        versions = _admin(b, "GET", "/api/admin/versions", token)
        assert [v["status"] for v in versions["items"]] == ["active"], versions

        # A conversation started on one instance continues on the other, turn after turn.
        with httpx.Client(timeout=120) as client:
            first = client.post(f"{a}/api/ask", json={"question": QUESTION})
            assert first.status_code == 200, first.text
            conversation = first.json()["conversation_id"]
            role = first.json()["profile"]["role"]
            assert role
            second = client.post(f"{b}/api/ask", json={"question": "et à distance ?", "conversation_id": conversation})
            assert second.status_code == 200, second.text
            assert second.json()["conversation_id"] == conversation
            assert second.json()["profile"]["role"] == role
            assert second.json()["profile"]["format"] == "distanciel"
            third = client.post(f"{a}/api/ask", json={"question": "et sans CPF ?", "conversation_id": conversation})
            assert third.json()["profile"]["format"] == "distanciel", "the turn asked on B is known to A"
            # The thread (turns asked on both) is the same on both pages.
            for url in (a, b):
                page = client.get(f"{url}/", cookies={"orientia_conversation": conversation})
                turns = BeautifulSoup(page.text, "html.parser").select("article.turn")
                assert len(turns) == 3, (url, [t.get("id") for t in turns])

        # An ingest started on A (an admin job in the shared database) is served by B.
        job = _admin(a, "POST", "/api/admin/reindex", token)["job_id"]
        deadline = time.monotonic() + 600
        while (state := _admin(b, "GET", f"/api/admin/jobs/{job}", token))["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, state
            time.sleep(1)
        assert state["status"] == "done", state
        active = _admin(a, "GET", "/api/admin/versions", token)["active"]
        assert active != versions["active"]
        assert _admin(b, "GET", "/api/admin/versions", token)["active"] == active
        answer = httpx.post(f"{b}/api/ask", json={"question": QUESTION}, timeout=120)
        assert answer.status_code == 200 and answer.json()["answered"]


def test_the_rate_limit_counts_a_client_across_instances(shared, tmp_path):
    with ExitStack() as stack:
        a, process_a, log_a = stack.enter_context(_serve(shared, tmp_path / "a", ORIENTIA_RATE_LIMIT="6/minute"))
        b, process_b, log_b = stack.enter_context(_serve(shared, tmp_path / "b", ORIENTIA_RATE_LIMIT="6/minute"))
        _wait_ready(a, process_a, log_a)
        _wait_ready(b, process_b, log_b)
        statuses = []
        with httpx.Client(timeout=60) as client:
            for turn in range(10):  # alternating: each instance alone would allow 6
                url = (a, b)[turn % 2]
                statuses.append(client.post(f"{url}/api/ask", json={"question": ""}).status_code)
            refused = client.post(f"{b}/api/ask", json={"question": ""})
        assert statuses[:6] == [422] * 6 and statuses[6:] == [429] * 4, statuses
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Trop de questions" in refused.json()["detail"]


def test_several_workers_serve_one_port(shared_sqlite, tmp_path):
    with _serve(shared_sqlite, tmp_path / "w", "--workers", "2") as (url, process, log_path):
        _wait_ready(url, process, log_path)
        with httpx.Client(timeout=120) as client:
            # /readyz reaches either worker: the other may still be loading (it answers 503 then).
            # Both are ready once several checks in a row say so.
            deadline, in_a_row = time.monotonic() + 180, 0
            while in_a_row < 8 and time.monotonic() < deadline:
                in_a_row = in_a_row + 1 if client.get(f"{url}/readyz").status_code == 200 else 0
                time.sleep(0.1)
            response = client.post(f"{url}/api/ask", json={"question": QUESTION})
            assert response.status_code == 200, response.text
            first = response.json()
            # Each request may reach either worker: the conversation lives in the database.
            for _ in range(4):
                follow = client.post(f"{url}/api/ask", json={"question": "et à distance ?", "conversation_id": first["conversation_id"]})
                assert follow.status_code == 200 and follow.json()["profile"]["role"] == first["profile"]["role"]
            assert client.get(f"{url}/healthz").json()["status"] == "ok"


def test_workers_without_a_chroma_server_are_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env["ORIENTIA_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "web", "serve", "--workers", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "ORIENTIA_CHROMA_URL" in result.stderr and "Chroma" in result.stderr
