"""The main flows in a real browser against a real server, with and without JavaScript."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

QUESTION = "Quelles formations en IA pour un comptable ?"
MARKER = "window.__orientiaMarker"


def turns(page):
    return page.locator("#conversation article.turn")


def ask(page, question: str):
    """Ask with HTMX: the new turn is appended to the conversation; returns it."""
    before = turns(page).count()
    page.fill("#question", question)
    page.click("#question-form button[type=submit]:text-is('Demander')")
    expect(turns(page)).to_have_count(before + 1)
    return turns(page).nth(before)


def post(page, question: str):
    """Ask without JavaScript: the form posts and the page shows the whole thread; returns the new turn."""
    before = turns(page).count()
    page.fill("#question", question)
    with page.expect_navigation():
        page.click("#question-form button[type=submit]:text-is('Demander')")
    expect(turns(page)).to_have_count(before + 1)
    return turns(page).last


def chip(page, field: str):
    return page.locator(f'#profil .chip[data-field="{field}"]')


def assert_fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def shoot(page, path) -> None:
    """Save a screenshot of the top of the page for docs/screenshots."""
    page.evaluate("window.scrollTo(0, 0)")
    # caret="initial": hiding the caret injects a <style>, which the strict CSP reports as an error.
    page.screenshot(path=str(path), caret="initial")


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode()), "UTF-8 with BOM for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


# -- Chat ----------------------------------------------------------------------------------------


def test_chat_answers_cites_and_follows_up_without_reloading(page, server, screenshots):
    page.goto(server + "/")
    page.evaluate(f"{MARKER} = 'même page'")

    turn = ask(page, QUESTION)
    expect(turn.locator(".question")).to_contain_text(QUESTION)
    # The written-out sections of the answer are collapsed under the direct answer and the cards.
    turn.locator("details.more:has(a.cite) > summary").first.click()
    expect(turn.locator(".answer-text a.cite").first).to_be_visible()
    expect(turn.locator(".card.training")).not_to_have_count(0)
    expect(turn.locator(".card.training .badge").first).to_have_text("Exemple de formation")
    expect(chip(page, "role")).to_contain_text("Comptable")
    expect(page.locator("#question")).to_have_value("")
    conversation_id = page.locator("#profil input[name=conversation_id]").input_value()
    assert conversation_id
    shoot(page, screenshots / "chat-desktop.png")

    # A citation opens its passage in a panel under the numbered source.
    turn.locator(".answer-text a.cite").first.click()
    panel = turn.locator(".passage-panel .passage").first
    expect(panel).to_be_visible()
    expect(panel.locator(".passage-source")).to_contain_text("Source")
    panel.get_by_role("button", name="Fermer").click()
    expect(turn.locator(".passage-panel .passage")).to_have_count(0)

    # A follow-up refines the same conversation: the chips change.
    second = ask(page, "et à distance ?")
    expect(chip(page, "format")).to_contain_text("distanciel")
    expect(chip(page, "role")).to_contain_text("Comptable")
    assert page.locator("#profil input[name=conversation_id]").input_value() == conversation_id
    # Every card of the turn, folded ones included (text_content reads hidden <details> too).
    for facts in second.locator(".card.training .key-facts").all_text_contents():
        assert " · distanciel · " in facts

    # Correcting the profile sends it as the override of the next question.
    page.get_by_text("Modifier mon profil").click()
    page.select_option("#p-department", "62")
    ask(page, "Quelles formations me conseillez-vous ?")
    expect(chip(page, "department")).to_contain_text("Pas-de-Calais (62)")
    expect(turns(page)).to_have_count(3)

    assert page.evaluate(MARKER) == "même page", "the page was reloaded"
    assert page.console.errors == [], "console errors (a CSP violation?)"

    page.get_by_role("button", name="Nouvelle conversation").click()
    expect(turns(page)).to_have_count(0)
    expect(page.locator("#profil input[name=conversation_id]")).to_have_value("")


def test_chat_on_a_phone(phone_page, server, screenshots):
    page = phone_page
    page.goto(server + "/")
    page.get_by_label("Salarié·e").check()
    ask(page, QUESTION)
    expect(page.get_by_role("radio", name="Salarié·e")).to_be_checked()
    assert_fits(page, 360)
    shoot(page, screenshots / "chat-phone.png")


def test_a_script_in_the_question_shows_as_text(page, server):
    page.goto(server + "/")
    question = "<script>window.__pwned = true</script> C'est quoi l'IA ?"
    turn = ask(page, question)
    expect(turn.locator(".question")).to_contain_text("<script>window.__pwned = true</script>")
    assert page.evaluate("typeof window.__pwned") == "undefined"


# -- Catalogue -----------------------------------------------------------------------------------


def test_catalogue_filters_update_the_url_and_the_back_button_works(page, server, screenshots):
    page.goto(server + "/formations")
    page.evaluate(f"{MARKER} = 'même page'")
    status = page.locator("#resultats-statut")
    everything = status.inner_text()

    page.select_option("#f-department", "59")
    page.wait_for_url(re.compile(r"/formations\?.*department=59"))
    expect(status).not_to_have_text(everything)
    nord = status.inner_text()

    page.select_option("#f-format", "distanciel")
    page.wait_for_url(re.compile(r"department=59.*format=distanciel"))
    expect(status).not_to_have_text(nord)
    for facts in page.locator("#resultats .key-facts").all_inner_texts():
        assert " · distanciel · " in facts
    assert page.evaluate(MARKER) == "même page", "filtering reloaded the page"
    shoot(page, screenshots / "catalogue-desktop.png")

    # The URL is shareable: opened afresh, it shows the same selection.
    shared = page.url
    total = int(status.inner_text().split()[0])

    # Export the current selection.
    with page.expect_download() as download:
        page.locator(".export a").click()
    rows = csv_rows(download.value.path().read_bytes())
    assert rows[0][:3] == ["Identifiant", "Intitulé", "Organisme"]
    assert len(rows) - 1 == total
    assert {r[5] for r in rows[1:]} == {"distanciel"}

    page.go_back()
    expect(page).to_have_url(re.compile(r"department=59(?!.*format=distanciel)"))
    expect(page.locator("#f-format")).to_have_value("")
    expect(page.locator("#f-department")).to_have_value("59")
    expect(status).to_have_text(nord)

    page.goto(shared)
    expect(page.locator("#f-format")).to_have_value("distanciel")
    expect(status).to_contain_text(f"{total} formation")
    assert page.console.errors == []


def test_catalogue_pages_with_htmx(page, server):
    page.goto(server + "/formations")
    page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"offset=20"))
    expect(page.locator("#resultats-statut")).to_contain_text("21 à 40")
    page.go_back()
    expect(page.locator("#resultats-statut")).to_contain_text("1 à 20")


def test_catalogue_on_a_phone(phone_page, server, screenshots):
    page = phone_page
    page.goto(server + "/formations?department=62")
    expect(page.locator("#resultats .card").first).to_be_visible()
    assert_fits(page, 360)
    shoot(page, screenshots / "catalogue-phone.png")


# -- Records -------------------------------------------------------------------------------------


def test_job_to_skills_to_blocs_to_trainings(page, server):
    page.goto(server + "/metiers")
    page.get_by_label("Rechercher un métier").fill("développeur informatique")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Développeur / Développeuse informatique", exact=True).click()
    expect(page).to_have_url(server + "/metiers/M1805")
    expect(page.locator("h1")).to_have_text("Développeur / Développeuse informatique")
    expect(page.locator("#skills .badge").first).to_have_text("transition numérique")
    expect(page.locator("#orientia-note")).to_be_visible()
    card = page.locator("#trainings .card.training .card-title a").first
    title = card.inner_text()
    card.click()
    expect(page.locator("h1")).to_have_text(title)
    page.go_back()
    page.locator("#blocs a[href^='/certifications/']").first.click()
    expect(page).to_have_url(re.compile(r"/certifications/R"))
    expect(page.locator(".bloc").first).to_be_visible()


# -- Without JavaScript --------------------------------------------------------------------------


def test_main_flows_without_javascript(nojs_page, server):
    page = nojs_page
    page.goto(server + "/")
    turn = post(page, QUESTION)
    expect(turn.locator(".card.training")).not_to_have_count(0)
    expect(chip(page, "role")).to_contain_text("Comptable")
    conversation_id = page.locator("#profil input[name=conversation_id]").input_value()
    assert conversation_id

    turn = post(page, "et à distance ?")
    expect(chip(page, "format")).to_contain_text("distanciel")
    assert page.locator("#profil input[name=conversation_id]").input_value() == conversation_id

    page.locator("details.profile-edit summary").click()
    page.select_option("#p-department", "80")
    post(page, "Quelles formations me conseillez-vous ?")
    expect(chip(page, "department")).to_contain_text("Somme (80)")
    expect(chip(page, "format")).to_contain_text("distanciel")

    turns(page).first.locator("details.sources-block > summary").click()
    source = turns(page).first.locator("a.source-link").first
    title = source.inner_text()
    source.click()
    expect(page).to_have_url(re.compile(r"/sources/"))
    expect(page.locator("h1")).to_have_text(title)

    page.goto(server + "/")
    turn = post(page, "<script>document.title = 'pwned'</script> C'est quoi l'IA ?")
    expect(turn.locator(".question")).to_contain_text("<script>document.title")

    page.goto(server + "/formations")
    page.select_option("#f-department", "59")
    page.get_by_text("Plus de critères").click()
    # (no example training claims CPF: CPF needs a real certification)
    page.get_by_label("OPCO").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Filtrer").click()
    assert "department=59" in page.url and "funding=opco" in page.url
    total = int(page.locator("#resultats-statut").inner_text().split()[0])
    href = page.locator(".export a").get_attribute("href")
    assert "department=59" in href and "funding=opco" in href
    rows = csv_rows(page.request.get(server + href).body())
    assert len(rows) - 1 == total > 0
    assert all("OPCO" in r[8] for r in rows[1:])


# -- Accessibility -------------------------------------------------------------------------------

PAGES = [
    "/", "/formations", "/formations?department=59&funding=cpf", "/formations/F002", "/certifications",
    "/certifications/RNCP37827", "/metiers", "/metiers/M1203", "/a-propos",
    "/sources/role:M1203:1", "/pas-une-page",
]
AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} -> ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
}"""


def axe_violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    return page.evaluate(AXE)


@pytest.mark.parametrize("url", PAGES)
def test_no_serious_accessibility_violation(page, server, axe_source, url):
    page.goto(server + url)
    assert axe_violations(page, axe_source) == []


def test_no_serious_accessibility_violation_in_a_conversation(phone_page, server, axe_source):
    page = phone_page
    page.goto(server + "/")
    turn = ask(page, QUESTION)
    turn.locator("details.sources-block > summary").click()
    turn.locator("a.source-link").first.click()
    expect(turn.locator(".passage-panel .passage").first).to_be_visible()
    page.get_by_text("Modifier mon profil").click()
    assert axe_violations(page, axe_source) == []
