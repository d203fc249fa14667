"""The chat thread in a real browser (issue 15), with and without JavaScript.

Two questions then a reload keep both turns; a quick reply and a clarifying choice are sent as the
next question; « Nouvelle conversation » clears the thread; ticked trainings are compared and kept
for a printable summary. Screenshots for the README are saved under docs/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assistant import Settings
from assistant.store import Store
from web.routes.pages import COOKIE

from .conftest import PHONE, _new_page, running_server
from .test_browser import assert_fits, axe_violations, csv_rows

pytestmark = pytest.mark.browser

QUESTION = "Quelles formations en IA pour un comptable ?"
FOLLOW_UP = "et à distance ?"
MARKER = "window.__orientiaMarker"


@pytest.fixture(scope="module")
def chat_server(corpus_dir, tmp_path_factory, htmx_url):
    """A real server and its data folder (tests insert a stored turn through its store)."""
    base = tmp_path_factory.mktemp("e2e-chat")
    with running_server(corpus_dir, base, htmx_url) as url:
        yield url, base / "data"


@pytest.fixture
def store(chat_server):
    store = Store(Settings(data_dir=chat_server[1], _env_file=None).sqlalchemy_url)
    yield store
    store.dispose()


def turns(page):
    return page.locator("#conversation article.turn")


def asked(page) -> list[str]:
    texts = turns(page).locator(".question").all_inner_texts()
    return [" ".join(q.split()).removeprefix("Votre question : ") for q in texts]


def ask(page, question: str, *, javascript: bool):
    """Type a question and send it; with JavaScript the turn is appended, without the page reloads."""
    before = turns(page).count()
    page.fill("#question", question)
    if javascript:
        page.click("#question-form button[type=submit]:text-is('Demander')")
    else:
        with page.expect_navigation():
            page.click("#question-form button[type=submit]:text-is('Demander')")
    expect(turns(page)).to_have_count(before + 1)
    return turns(page).nth(before)


def click_and_wait(page, locator, *, javascript: bool) -> None:
    if javascript:
        locator.click()
    else:
        with page.expect_navigation():
            locator.click()


def box_after_last_turn(page) -> bool:
    return page.evaluate("""() => {
      const turns = document.querySelectorAll('#conversation article.turn');
      const box = document.querySelector('#question-form textarea[name=question]');
      return !!box && turns.length > 0 && !!(turns[turns.length - 1].compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")


def shoot_at(page, locator, path) -> None:
    """A viewport screenshot with ``locator`` at the top (caret kept: hiding it injects a style)."""
    locator.scroll_into_view_if_needed()
    page.evaluate("(y) => window.scrollTo(0, y)", locator.bounding_box()["y"] + page.evaluate("window.scrollY") - 8)
    page.screenshot(path=str(path), caret="initial")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
def test_two_questions_a_reload_and_a_quick_reply(browser, chat_server, javascript):
    url, _ = chat_server
    context, page = _new_page(browser, javascript=javascript)
    try:
        page.goto(url + "/")
        ask(page, QUESTION, javascript=javascript)
        ask(page, FOLLOW_UP, javascript=javascript)
        assert asked(page) == [QUESTION, FOLLOW_UP]
        assert box_after_last_turn(page)
        if javascript:
            expect(page.locator("#question")).to_have_value("")

        page.reload()
        expect(turns(page)).to_have_count(2)
        assert asked(page) == [QUESTION, FOLLOW_UP]
        assert box_after_last_turn(page)
        expect(page.locator('#profil .chip[data-field="format"]')).to_contain_text("distanciel")

        # A quick reply, with an empty question box, is sent as the next question.
        if javascript:
            page.evaluate(f"{MARKER} = 'même page'")
        reply = page.locator("#suggestions fieldset.quick-replies:not(.clarify) button[name=question]").first
        value = reply.get_attribute("value")
        click_and_wait(page, reply, javascript=javascript)
        expect(turns(page)).to_have_count(3)
        assert asked(page)[-1] == " ".join(value.split())
        if javascript:
            assert page.evaluate(MARKER) == "même page", "the quick reply reloaded the page"
            expect(turns(page).last).to_be_in_viewport()

        # Five turns, then a reload: the whole conversation is still there, in order.
        ask(page, "Et dans le Nord ?", javascript=javascript)
        ask(page, "Quelles certifications pour ce métier ?", javascript=javascript)
        before = asked(page)
        assert len(before) == 5
        page.reload()
        expect(turns(page)).to_have_count(5)
        assert asked(page) == before
        assert box_after_last_turn(page)
        expect(page.locator('#profil .chip[data-field="department"]')).to_contain_text("Nord (59)")

        # « Nouvelle conversation » clears the thread, also after a reload.
        click_and_wait(page, page.get_by_role("button", name="Nouvelle conversation"), javascript=False)
        expect(turns(page)).to_have_count(0)
        expect(page.locator("#profil input[name=conversation_id]")).to_have_value("")
        page.reload()
        expect(turns(page)).to_have_count(0)
        assert page.console.errors == [], "console errors (a CSP violation?)"
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
def test_a_clarifying_choice_answers_the_clarifying_question(browser, chat_server, javascript):
    """« je suis conseiller » names dozens of ROME sheets: Orientia asks which one, and a click
    on a choice answers it."""
    url, _ = chat_server
    context, page = _new_page(browser, javascript=javascript)
    try:
        page.goto(url + "/")
        ask(page, "je suis conseiller, l'IA va changer quoi pour moi ?", javascript=javascript)
        group = page.locator("#question-form fieldset.clarify")
        expect(group).to_be_visible()
        first = group.locator("button[name=question]").first
        label = first.get_attribute("value")
        assert label
        click_and_wait(page, first, javascript=javascript)
        expect(turns(page)).to_have_count(2)
        assert asked(page)[-1] == label
        expect(page.locator('#profil .chip[data-field="role"]')).to_be_visible()
        expect(page.locator("#question-form fieldset.clarify")).to_have_count(0)
    finally:
        context.close()


def _tick(page, count: int) -> list[str]:
    """Tick the first ``count`` distinct trainings of the thread; returns their ids."""
    ids: list[str] = []
    boxes = page.locator("input[type=checkbox][name=compare]")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        value = box.get_attribute("value")
        if value in ids or not box.is_visible():
            continue
        box.check()
        ids.append(value)
        if len(ids) == count:
            break
    assert len(ids) == count, "not enough trainings proposed"
    return ids


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
def test_compare_three_trainings_and_keep_them_in_a_summary(browser, chat_server, javascript):
    url, _ = chat_server
    context, page = _new_page(browser, javascript=javascript)
    try:
        page.goto(url + "/")
        ask(page, QUESTION, javascript=javascript)
        ids = _tick(page, 3)
        with page.expect_navigation():
            page.get_by_role("button", name="Comparer la sélection").click()
        expect(page).to_have_url(re.compile(r"/comparer\?"))
        table = page.get_by_role("table")
        expect(table.locator("thead th[scope=col]")).to_have_count(3)
        hrefs = table.locator("thead th[scope=col] a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs == [f"/formations/{i}" for i in ids]
        expect(table.get_by_role("rowheader", name="Prix")).to_be_visible()

        with page.expect_navigation():
            page.get_by_role("button", name="Garder ces formations pour mon récapitulatif").click()
        expect(page).to_have_url(url + "/recapitulatif")
        expect(page.locator(".recap-list > li")).to_have_count(3)
        kept = page.locator(".recap-list h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert kept == [f"/formations/{i}" for i in ids]
        expect(page.locator("ol.steps")).to_contain_text("0800 02 60 80")
        rows = csv_rows(page.request.get(url + "/recapitulatif.csv").body())
        assert [r[0] for r in rows[1:]] == ids

        # Back in the thread the kept trainings are ticked.
        page.goto(url + "/")
        for i in ids:
            expect(page.locator(f"input[name=compare][value={i}]").first).to_be_checked()
        assert page.console.errors == []
    finally:
        context.close()


def test_axe_and_screenshots_of_the_thread_the_comparison_and_the_summary(browser, chat_server, axe_source, screenshots):
    url, _ = chat_server
    context, page = _new_page(browser)
    phone_context, phone = _new_page(browser, viewport=PHONE)
    try:
        page.goto(url + "/")
        ask(page, QUESTION, javascript=True)
        ask(page, FOLLOW_UP, javascript=True)
        # A citation opens its passage (the collapsed sources open with it).
        first = turns(page).first
        first.locator("details.more:has(a.cite) > summary").first.click()
        first.locator("a.cite").first.click()
        expect(first.locator(".passage-panel .passage").first).to_be_visible()
        ids = _tick(page, 3)
        page.screenshot(path=str(screenshots / "chat-thread-desktop.png"), caret="initial", full_page=True)
        assert axe_violations(page, axe_source) == [], "thread"

        compare = url + "/comparer?ids=" + ",".join(ids)
        page.goto(compare)
        page.screenshot(path=str(screenshots / "compare-desktop.png"), caret="initial")
        assert axe_violations(page, axe_source) == [], "comparison"
        with page.expect_navigation():
            page.get_by_role("button", name="Garder ces formations pour mon récapitulatif").click()
        expect(page.get_by_role("button", name="Imprimer ou enregistrer en PDF")).to_be_visible()
        page.screenshot(path=str(screenshots / "summary-desktop.png"), caret="initial", full_page=True)
        assert axe_violations(page, axe_source) == [], "summary"
        # Printed: no navigation, no buttons.
        page.emulate_media(media="print")
        expect(page.locator("header.site nav")).to_be_hidden()
        expect(page.get_by_role("button", name="Imprimer ou enregistrer en PDF")).to_be_hidden()
        expect(page.locator("ol.steps")).to_be_visible()
        page.emulate_media(media="screen")

        # The same conversation on a phone (360 px).
        phone_context.add_cookies([c for c in context.cookies() if c["name"] == COOKIE])
        phone.goto(url + "/")
        expect(turns(phone)).to_have_count(2)
        assert_fits(phone, 360)
        shoot_at(phone, turns(phone).last, screenshots / "chat-thread-phone.png")
        assert axe_violations(phone, axe_source) == [], "thread on a phone"
        phone.goto(compare)
        assert_fits(phone, 360)
        expect(phone.get_by_role("region", name=re.compile("côte à côte"))).to_be_visible()
        phone.screenshot(path=str(screenshots / "compare-phone.png"), caret="initial")
        assert axe_violations(phone, axe_source) == [], "comparison on a phone"
        phone.goto(url + "/recapitulatif")
        assert_fits(phone, 360)
        phone.screenshot(path=str(screenshots / "summary-phone.png"), caret="initial")
        assert axe_violations(phone, axe_source) == [], "summary on a phone"
        assert page.console.errors == [] and phone.console.errors == []
    finally:
        phone_context.close()
        context.close()
