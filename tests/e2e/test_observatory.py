"""The observatory dashboard and the feedback form in Chromium against a real server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, _new_page, running_server
from .test_browser import ask, axe_violations

pytestmark = pytest.mark.browser

TOKEN = "jeton-admin-e2e"

#: A varied session: jobs, places, audiences, an impossible constraint, an off-topic question.
QUESTIONS = [
    "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?",
    "et à distance ?",
    "Formations IA courtes en distanciel pour 10 assistants de direction, finançables par l'OPCO",
    "Quelle est la recette de la tarte au maroilles ?",
    "Une formation IA en présentiel de moins de 3 heures dans l'Aisne pour un comptable, certifiante",
    "C'est quoi l'IA ? Je suis au lycée à Beauvais",
    "Quelles formations CPF pour un infirmier à Amiens ?",
    "Quels blocs de compétences dans la certification RS9101 ?",
    "Comment former mon équipe logistique à l'IA à Lille ?",
    "Je suis assistante de direction à Soissons, quelles formations IA ?",
    "Formations IA pour des techniciens de maintenance à Dunkerque",
    "Je suis aide-soignante à Compiègne, l'IA va-t-elle changer mon métier ?",
]


@pytest.fixture(scope="module")
def observatory_server(corpus_dir, tmp_path_factory, htmx_url):
    with running_server(corpus_dir, tmp_path_factory.mktemp("e2e-observatoire"), htmx_url, ORIENTIA_ADMIN_TOKEN=TOKEN) as url:
        yield url


def _admin_context(browser):
    return browser.new_context(viewport={**DESKTOP, "height": 2000}, locale="fr-FR", extra_http_headers={"Authorization": f"Bearer {TOKEN}"})


def test_feedback_then_dashboard(browser, observatory_server, axe_source, screenshots):
    # The server's data folder is a copy of the shared corpus: no other test may have left
    # observatory records in it, or the counts below mean nothing.
    admin = _admin_context(browser)
    try:
        page = admin.new_page()
        page.goto(observatory_server + "/observatoire")
        expect(page.locator("#obs-questions")).to_have_text("0")
    finally:
        admin.close()

    context, page = _new_page(browser)
    try:
        page.goto(observatory_server + "/")
        turns = [ask(page, question) for question in QUESTIONS]
        # Not useful, with a reason and a comment, on the first answer (HTMX: replaced in place).
        first = turns[0]
        first.locator(".feedback input[name=useful][value=non]").check()
        first.locator(".feedback summary").click()
        first.get_by_label("Il manque des sources").check()
        first.locator(".feedback textarea").fill("Il manque le lien vers la fiche, je m'appelle Paul Martin")
        first.get_by_role("button", name="Envoyer mon avis").click()
        expect(first.locator(".feedback-done")).to_contain_text("Merci")
        # Useful, on the third.
        turns[2].locator(".feedback input[name=useful][value=oui]").check()
        turns[2].get_by_role("button", name="Envoyer mon avis").click()
        expect(turns[2].locator(".feedback-done")).to_contain_text("enregistré")
        assert page.console.errors == []
    finally:
        context.close()

    admin = _admin_context(browser)
    try:
        page = admin.new_page()
        page.goto(observatory_server + "/observatoire")
        expect(page.locator("#obs-questions")).to_have_text(str(len(QUESTIONS)))
        expect(page.locator("#obs-feedback")).to_have_text("2")
        expect(page.locator("#graphique-departements")).to_be_visible()
        assert "Paul Martin" not in page.content()
        assert axe_violations(page, axe_source) == []
        page.screenshot(path=str(screenshots / "observatoire-desktop.png"), caret="initial")
        # The filter form is a plain GET form.
        page.select_option("#obs-department", "62")
        page.get_by_role("button", name="Filtrer").click()
        expect(page).to_have_url(observatory_server + "/observatoire?period=&department=62&audience=")
        expect(page.locator("#obs-questions")).not_to_have_text(str(len(QUESTIONS)))
    finally:
        admin.close()


def test_feedback_without_javascript(nojs_page, observatory_server):
    page = nojs_page
    page.goto(observatory_server + "/")
    page.fill("#question", "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?")
    with page.expect_navigation():
        page.click("#question-form button[type=submit]")
    page.locator(".feedback input[name=useful][value=oui]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.locator("h1")).to_have_text("Merci pour votre avis")
    expect(page.locator(".feedback-done")).to_contain_text("enregistré")
