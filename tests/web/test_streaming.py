"""With an LLM writer the chat page streams the answer (LangChain's fake chat model: no LLM here)."""

from __future__ import annotations

import json
import shutil

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant import Assistant, Index
from assistant.llm import LLMWriter
from web.app import create_app

from ..conftest import make_settings

REPLY = "Le métier de comptable est fortement exposé à l'IA [1]."


def _app(corpus_dir, tmp_path, embedder, reply):
    shutil.copytree(corpus_dir, tmp_path / "data")
    settings = make_settings(tmp_path / "data")
    writer = LLMWriter(FakeListChatModel(responses=[reply]))
    assistant = Assistant(settings, index=Index(settings, embedder=embedder), writer=writer)
    return create_app(settings, assistant=assistant)


def _lines(response):
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_the_page_streams_text_then_the_finished_turn(corpus_dir, tmp_path, embedder):
    with TestClient(_app(corpus_dir, tmp_path, embedder, REPLY)) as client:
        page = BeautifulSoup(client.get("/").text, "html.parser")
        assert page.select_one("#question-form")["data-stream"] == "true"
        response = client.post(
            "/", data={"question": "Je suis comptable, que dois-je apprendre ?"},
            headers={"HX-Request": "true", "X-Orientia-Stream": "1"},
        )
        assert response.headers["content-type"].startswith("application/x-ndjson")
        items = _lines(response)
        pieces = [i["text"] for i in items if "text" in i]
        assert len(pieces) > 1 and "".join(pieces) == REPLY
        final = items[-1]["html"]
        turn = BeautifulSoup(final, "html.parser")
        assert "Le métier de comptable est fortement exposé" in turn.get_text()
        assert turn.select("a.cite")


def test_a_refused_llm_answer_ends_with_the_grounded_turn(corpus_dir, tmp_path, embedder):
    with TestClient(_app(corpus_dir, tmp_path, embedder, "Réponse sans aucune source.")) as client:
        response = client.post(
            "/", data={"question": "Je suis comptable, que dois-je apprendre ?"},
            headers={"HX-Request": "true", "X-Orientia-Stream": "1"},
        )
        items = _lines(response)
        turn = BeautifulSoup(items[-1]["html"], "html.parser").get_text()
        assert "Réponse sans aucune source" not in turn
        assert "Exposition à l'IA du métier" in turn


def test_without_an_llm_the_page_does_not_stream(corpus_dir, tmp_path, embedder):
    shutil.copytree(corpus_dir, tmp_path / "data")
    settings = make_settings(tmp_path / "data")
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    with TestClient(create_app(settings, assistant=assistant)) as client:
        page = BeautifulSoup(client.get("/").text, "html.parser")
        assert not page.select_one("#question-form").has_attr("data-stream")
        response = client.post("/", data={"question": "Quelles formations en IA pour un comptable ?"},
                               headers={"HX-Request": "true", "X-Orientia-Stream": "1"})
        assert response.headers["content-type"].startswith("text/html")


def test_the_api_streams_text_then_the_answer(corpus_dir, tmp_path, embedder):
    with TestClient(_app(corpus_dir, tmp_path, embedder, REPLY)) as client:
        response = client.post("/api/ask/stream", json={"question": "Je suis comptable, que dois-je apprendre ?"})
        assert response.headers["content-type"].startswith("application/x-ndjson")
        items = _lines(response)
        assert "".join(i["text"] for i in items if i["type"] == "text") == REPLY
        final = items[-1]
        assert final["type"] == "answer" and final["answer"]["answered"] is True
        assert final["answer"]["answer"].startswith(REPLY)
        declined = _lines(client.post("/api/ask/stream", json={"question": "   "}))
        assert declined == [{"type": "error", "detail": declined[0]["detail"], "status": 422}]
