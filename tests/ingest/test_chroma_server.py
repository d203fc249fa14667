"""The same ingest-and-ask path against a real Chroma server (`chroma run`), stopped at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, Index
from ingest import ingest

from ..conftest import make_settings, stop_process

pytestmark = pytest.mark.chroma_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "chroma-server")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()}")
        time.sleep(0.2)
    yield url
    stop_process(process)
    log.close()


def test_ingest_and_ask_through_a_chroma_server(tmp_path, starter_dir, embedder, chroma_server):
    # One retired version kept for rollback (ORIENTIA_KEEP_VERSIONS), so the third ingest purges one.
    settings = make_settings(tmp_path / "data", chroma_url=chroma_server, keep_versions=1)
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    report = ingest([starter_dir], assistant.index)

    # The vectors live in the server, not in the data folder.
    assert not (tmp_path / "data" / "chroma").exists()
    import chromadb

    port = int(chroma_server.rsplit(":", 1)[1])
    remote = chromadb.HttpClient(host="127.0.0.1", port=port)
    assert remote.get_collection(assistant.knowledge().collection).count() == report.embedded + report.reused

    answer = assistant.answer("Combien d'emplois l'IA pourrait-elle créer dans la région d'ici 2030 ?")
    assert answer.answered
    assert answer.citations[0].id.startswith("study:scenarios-2030:")

    first = assistant.knowledge().collection
    again = ingest([starter_dir], assistant.index)
    assert again.embedded == 0
    second = assistant.knowledge().collection
    # The active collection serves; the retired one stays in the server so an admin can roll back.
    assert second != first
    assert sorted(c.name for c in remote.list_collections()) == sorted([first, second])

    # Beyond keep_versions, the oldest retired collection is dropped from the server too.
    ingest([starter_dir], assistant.index)
    third = assistant.knowledge().collection
    assert sorted(c.name for c in remote.list_collections()) == sorted([second, third])
    assert [v["collection"] for v in assistant.index.store.list_versions()] == [third, second]
    assistant.index.close()
