"""With an LLM writer, the chat page shows the answer as it is written, then the checked turn."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import running_server
from .fake_llm import FakeChatEndpoint

pytestmark = pytest.mark.browser

REPLY = "Le métier de comptable est fortement exposé à l'IA [1] ; des formations existent à Arras [3]."


@pytest.fixture(scope="module")
def llm_server(corpus_dir, tmp_path_factory, htmx_url):
    with FakeChatEndpoint(REPLY) as endpoint:
        with running_server(
            corpus_dir, tmp_path_factory.mktemp("e2e-llm"), htmx_url,
            ORIENTIA_LLM_URL=endpoint.url, ORIENTIA_LLM_MODEL="modele-de-test",
        ) as url:
            yield url, endpoint


def test_the_answer_streams_into_the_page(page, llm_server):
    url, endpoint = llm_server
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url + "/")
    expect(page.locator("#question-form")).to_have_attribute("data-stream", "true")
    page.evaluate("window.__noReload = true")
    page.fill("#question", "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?")
    page.click("#question-form button[type=submit]")

    # The text appears while the model writes it...
    draft = page.locator("#conversation .turn.streaming .draft")
    expect(draft).to_contain_text("Le métier", timeout=30_000)
    # ...then the finished, checked turn replaces it, with its citations renumbered.
    turn = page.locator("#conversation article.turn").last
    expect(turn).to_contain_text("des formations existent à Arras [2]", timeout=60_000)
    expect(page.locator("#conversation .turn.streaming")).to_have_count(0)
    expect(turn.locator("a.cite")).to_have_count(2)
    assert page.evaluate("window.__noReload") is True
    assert endpoint.requests and endpoint.requests[-1]["stream"] is True
    assert errors == []


def test_a_quick_reply_streams_and_the_thread_survives_a_reload(page, llm_server):
    url, _ = llm_server
    turns = page.locator("#conversation article.turn")
    page.goto(url + "/")
    page.fill("#question", "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?")
    page.click("#question-form button[type=submit]:text-is('Demander')")
    expect(turns).to_have_count(1, timeout=60_000)
    reply = page.locator("#suggestions button[name=question]").first
    value = reply.get_attribute("value")
    reply.click()
    # The quick reply, not the empty box, is the question shown while the answer streams.
    expect(turns).to_have_count(2, timeout=60_000)
    expect(turns.last.locator(".question")).to_contain_text(value)
    page.reload()
    expect(turns).to_have_count(2)
    expect(turns.last.locator(".question")).to_contain_text(value)
