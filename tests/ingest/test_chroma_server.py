"""The same ingest-and-ask path against a real Chroma server (`chroma run`), stopped at the end."""

from __future__ import annotations

import time

import pytest

from assistant import Assistant, Index
from ingest import ingest

from ..conftest import make_settings

pytestmark = pytest.mark.chroma_server


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


def test_a_chroma_server_restart_gives_a_french_503_then_recovers(tmp_path, starter_dir, embedder):
    from fastapi.testclient import TestClient

    from web.app import create_app

    from ..conftest import ChromaServer

    server = ChromaServer(tmp_path)
    server.start()
    try:
        settings = make_settings(tmp_path / "data", chroma_url=server.url, chroma_timeout_seconds=5)
        assistant = Assistant(settings, index=Index(settings, embedder=embedder))
        ingest([starter_dir], assistant.index)
        question = {"question": "Combien d'emplois l'IA pourrait-elle créer dans la région d'ici 2030 ?"}
        with TestClient(create_app(settings, assistant=assistant)) as client:
            deadline = time.monotonic() + 120
            while client.get("/readyz").status_code != 200:  # warming up: index and language pipeline
                assert time.monotonic() < deadline, "the app never became ready"
                time.sleep(0.1)
            assert client.post("/api/ask", json=question).status_code == 200

            server.stop()
            down = client.post("/api/ask", json=question)
            assert down.status_code == 503, down.text
            assert down.json()["detail"].startswith("La base de recherche est momentanément indisponible")
            assert int(down.headers["Retry-After"]) > 0
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["index"] == "unreachable"
            page = client.post("/", data={"question": question["question"]}, headers={"HX-Request": "true"})
            assert page.status_code == 503 and "momentanément indisponible" in page.text

            # Same port, same data: the app recovers by itself, no restart.
            server.start()
            again = client.post("/api/ask", json=question)
            assert again.status_code == 200 and again.json()["answered"]
            assert client.get("/readyz").status_code == 200
        assistant.index.close()
    finally:
        server.stop()


def test_a_chroma_server_down_at_start_is_said_and_retried(tmp_path, embedder):
    from assistant.vectors import VectorsUnavailable

    from ..conftest import ChromaServer

    server = ChromaServer(tmp_path)  # not started yet
    settings = make_settings(tmp_path / "data", chroma_url=server.url)
    index = Index(settings, embedder=embedder)
    with pytest.raises(VectorsUnavailable) as caught:
        index.vectors  # noqa: B018 - connecting is the point
    assert "momentanément indisponible" in caught.value.message
    assert not index.reachable()
    server.start()
    try:
        assert index.reachable()  # the next use connects
        assert index.vectors.names() == []
    finally:
        server.stop()
        index.close()
