"""An admin in a real browser: log in, upload, watch progress, see the new content cited, roll back,
log out. Screenshots of the admin pages go to docs/screenshots for the README."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..files import pdf_file
from .conftest import running_server
from .test_browser import AXE, ask, shoot

pytestmark = pytest.mark.browser

PASSWORD = "Mot-de-passe-du-navigateur-1"
QUESTION = "Comment une balance électronique sous la ruche mesure-t-elle le poids du miel ?"


@pytest.fixture(scope="module")
def admin_server(corpus_dir, tmp_path_factory, htmx_url):
    """A real server whose first admin comes from ORIENTIA_ADMIN_PASSWORD."""
    with running_server(
        corpus_dir, tmp_path_factory.mktemp("e2e-admin"), htmx_url, ORIENTIA_ADMIN_PASSWORD=PASSWORD,
    ) as url:
        yield url


def test_admin_uploads_sees_it_cited_rolls_back_and_logs_out(page, admin_server, screenshots, tmp_path, axe_source):
    server = admin_server
    # Without a session the admin page reveals nothing but a way to log in.
    response = page.goto(server + "/admin")
    assert response.status == 401
    expect(page.locator("table")).to_have_count(0)
    page.get_by_role("link", name="Se connecter à l’administration").click()
    expect(page).to_have_url(server + "/admin/connexion")
    page.fill("#username", "admin")
    page.fill("#password", "pas le bon mot de passe")
    page.click("form.admin-login button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Identifiant ou mot de passe incorrect")
    shoot(page, screenshots / "admin-login.png")
    assert _axe(page, axe_source) == []
    page.fill("#password", PASSWORD)
    page.click("form.admin-login button[type=submit]")
    expect(page).to_have_url(server + "/admin")
    expect(page.locator("h1")).to_have_text("Administration")
    live = int(page.locator("table.versions tbody tr").first.get_attribute("data-version"))

    # Upload a PDF: the page shows the job and its progress bar until the new version serves.
    pdf = pdf_file(tmp_path / "ruchers-connectes.pdf", [
        "Guide des ruchers connectes. Une balance electronique placee sous la ruche mesure chaque jour le poids du miel.",
        "Le frelon asiatique attaque les abeilles devant la ruche.",
    ], title="Guide des ruchers connectés")
    page.set_input_files("#fichiers", str(pdf))
    page.get_by_role("button", name="Importer").click()
    job = page.locator(".job").first
    expect(job.locator("progress")).to_be_visible()
    shoot(page, screenshots / "admin-progress.png")
    expect(page.locator(".job[data-status=done]")).to_be_visible(timeout=600_000)
    row = page.locator("table.documents tbody tr", has_text="ruchers-connectes.pdf")
    expect(row).to_contain_text("dans l'index")
    expect(row).to_contain_text("Guide des ruchers connectés")
    new = int(page.locator("table.versions tbody tr").first.get_attribute("data-version"))
    assert new > live
    assert _axe(page, axe_source) == []
    shoot(page, screenshots / "admin-desktop.png")

    # The new content is answered and cited in the chat.
    page.goto(server + "/")
    turn = ask(page, QUESTION)
    expect(turn.locator(".sources")).to_contain_text("ruchers-connectes.pdf")
    expect(turn.locator(".sources")).to_contain_text("Page 1")
    shoot(page, screenshots / "admin-answer-cited.png")

    # Roll back to the version that served before the upload.
    page.goto(server + "/admin")
    page.get_by_role("button", name=f"Revenir à la version {live}").click()
    expect(page.locator("p.note")).to_contain_text(f"Version {live} en service")
    expect(page.locator(f"table.versions tr[data-version='{live}']")).to_contain_text("en service")
    expect(page.locator("table.documents tbody tr", has_text="ruchers-connectes.pdf")).to_contain_text("retiré")
    page.goto(server + "/")
    turn = ask(page, QUESTION)
    expect(turn.locator(".answer-text")).to_be_visible()
    expect(turn).not_to_contain_text("ruchers-connectes.pdf")

    # Log out: the admin page is closed again.
    page.goto(server + "/admin")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(server + "/admin/connexion")
    assert page.goto(server + "/admin").status == 401
    # Nothing was blocked by the strict Content-Security-Policy, no script failed (401 pages aside).
    assert [e for e in page.console.errors if "401" not in e] == []


def _axe(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    return page.evaluate(AXE)
