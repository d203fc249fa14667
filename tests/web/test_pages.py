"""The French HTML pages, through the app's real lifespan over the ingested bundled corpus."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup

from ..conftest import ready_client

HX = {"HX-Request": "true"}
QUESTION = "Quelles formations en IA pour un comptable ?"


@pytest.fixture(scope="module")
def client(corpus_dir, tmp_path_factory, embedder):
    """One app over a private copy of the ingested corpus, with its lifespan running."""
    with ready_client(corpus_dir, tmp_path_factory.mktemp("pages") / "data", embedder) as client:
        yield client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def page(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    html = soup(response)
    assert html.html["lang"] == "fr"
    assert html.find("main") and html.find("nav") and html.find("h1")
    return html


def text(node) -> str:
    """The node's text with all white space, non-breaking included, as single spaces."""
    return " ".join(node.get_text(" ").split())


def ask(client, question: str, *, htmx: bool = False, **fields):
    return client.post("/", data={"question": question, **fields}, headers=HX if htmx else {})


def form_fields(html, **changes) -> list[tuple[str, str]]:
    """What a browser would submit from the audience and profile parts of the chat form."""
    fields = []
    for node in html.select("#audience [name], #profil [name]"):
        name = node["name"]
        if name in changes:
            continue
        if node.name == "select":
            option = node.select_one("option[selected]") or node.select_one("option")
            fields.append((name, option["value"]))
        elif node.get("type") in ("checkbox", "radio"):
            if node.has_attr("checked"):
                fields.append((name, node["value"]))
        else:
            fields.append((name, node.get("value", "")))
    return fields + list(changes.items())


def follow_up(client, html, question: str, **changes) -> BeautifulSoup:
    """Ask the next question from the form of ``html`` (with HTMX), some fields changed."""
    data = [("question", question), *form_fields(html, **changes)]
    response = client.post("/", content=urlencode(data), headers={**HX, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text[:500]
    return soup(response)


# -- Layout --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "h1"),
    [
        ("/", "Quelles compétences IA pour votre métier"),
        ("/formations", "Catalogue des formations"),
        ("/formations/F001", "L'IA générative au service des comptables"),
        ("/certifications", "Certifications et blocs de compétences"),
        ("/certifications/RNCP37827", "RNCP37827"),
        ("/metiers", "Les métiers du ROME"),
        ("/metiers/M1203", "Comptable"),
        ("/metiers/m1203", "Comptable"),
        ("/a-propos", "À propos d’Orientia"),
        ("/sources/role:M1203:1", "Comptable"),
    ],
)
def test_each_page_renders_in_french(client, url, h1):
    html = page(client, url)
    assert h1 in text(html.h1)
    nav = [a["href"] for a in html.select("header nav a")]
    assert nav == ["/", "/formations", "/certifications", "/metiers", "/a-propos"]
    current = html.select('header nav a[aria-current="page"]')
    assert len(current) == (0 if url.startswith("/sources/") else 1)
    assert not html.select("[style]"), "inline styles break the CSP"
    assert all(s.get("src") for s in html.select("script")), "inline scripts break the CSP"


def test_html_routes_stay_out_of_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    pages = ["/", "/formations", "/formations.csv", "/formations/{training_id}", "/certifications", "/metiers", "/a-propos"]
    assert not [p for p in pages if p in paths]


def test_unknown_page_is_a_french_404(client):
    html = page(client, "/pas-une-page", status=404)
    assert text(html.h1) == "Page introuvable"
    assert "Page introuvable." in text(html.find(role="alert"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/formations/F999", "Formation introuvable"),
        ("/certifications/RNCP00000", "Certification introuvable"),
        ("/metiers/astronaute", "Métier introuvable"),
        ("/sources/study:nope:1", "Source introuvable"),
    ],
)
def test_unknown_records_are_french_404s(client, url, message):
    html = page(client, url, status=404)
    assert message in text(html.find(role="alert"))


# -- Chat ----------------------------------------------------------------------------------------


def test_chat_page_has_a_labelled_form_and_audience_choice(client):
    html = page(client, "/")
    form = html.select_one("form#question-form")
    assert form["method"] == "post" and form["action"] == "/"
    assert form["hx-post"] == "/" and form["hx-swap"] == "beforeend" and form["hx-target"] == "#conversation"
    assert html.select_one(form["hx-indicator"]), "the working indicator exists"
    assert html.select_one("label[for=question]") and html.select_one("textarea#question[name=question]")
    audiences = [i["value"] for i in html.select("fieldset.audience input[type=radio]")]
    assert audiences == ["salarie", "rh", "eleve", "entreprise"]
    for field in html.select("form#question-form select, form#question-form textarea, form#question-form input:not([type=hidden]):not([type=radio]):not([type=checkbox])"):
        assert html.select_one(f"label[for={field['id']}]"), field
    assert html.select_one("#conversation")["aria-live"] == "polite"
    assert text(html.select_one("details.profile-edit summary")) == "Modifier mon profil"
    assert html.select_one("button[form=nouvelle-conversation]", string="Nouvelle conversation")
    assert html.select_one("form#nouvelle-conversation[method=post][action='/nouvelle-conversation']")


def test_question_answers_with_citations_and_training_cards(client):
    response = ask(client, QUESTION)
    assert response.status_code == 200
    html = soup(response)
    assert html.html["lang"] == "fr"
    turn = html.select_one("#conversation article.turn")
    assert QUESTION in text(turn.select_one(".question"))
    cites = turn.select(".answer-text a.cite")
    assert cites
    sources = turn.select("ol.sources > li")
    for cite in cites:  # every [n] points at a source of this turn
        assert turn.select_one(cite["href"]) in sources
    first = sources[0].select_one("a.source-link")
    assert first["href"].startswith("/sources/") and first["hx-get"] == first["href"]
    cards = turn.select(".cards .card.training")
    assert 1 <= len(cards) <= 5
    for card in cards:
        assert card.select_one(".card-title a")["href"].startswith("/formations/F")
        assert "h" in text(card.select_one(".key-facts")) and "€" in text(card.select_one(".key-facts"))
        assert card.select_one(".badge") and text(card.select_one(".badge")) == "Exemple de formation"
    # The profile understood is shown, and the conversation carries on.
    assert "Comptable" in text(html.select_one('.chip[data-field="role"]'))
    conversation_id = html.select_one("input[name=conversation_id]")["value"]
    assert len(conversation_id) >= 16
    assert html.select_one("#p-role option[selected]")["value"] == "M1203"
    assert html.select_one("textarea#question").get_text() == ""


def test_htmx_gets_only_the_turn_and_the_refreshed_profile(client):
    response = ask(client, QUESTION, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text and "<nav" not in response.text
    html = soup(response)
    assert len(html.select("article.turn")) == 1
    assert html.select_one("article.turn .cards .card")
    assert html.select_one("#profil")["hx-swap-oob"] == "innerHTML"
    assert html.select_one("#audience")["hx-swap-oob"] == "innerHTML"
    assert html.select_one("#profil input[name=conversation_id]")["value"]
    assert response.headers["vary"] == "HX-Request"


def test_follow_up_keeps_the_conversation_and_updates_the_chips(client):
    first = soup(ask(client, QUESTION, htmx=True))
    conversation_id = first.select_one("input[name=conversation_id]")["value"]
    second = follow_up(client, first, "et à distance ?")
    assert second.select_one("input[name=conversation_id]")["value"] == conversation_id
    assert text(second.select_one('.chip[data-field="format"]')) == "Mode : distanciel"
    assert "Comptable" in text(second.select_one('.chip[data-field="role"]'))
    formats = {text(c.select_one(".key-facts")).split(" · ")[1] for c in second.select(".card.training")}
    assert formats == {"distanciel"}


def test_profile_corrections_are_sent_as_the_override(client):
    first = soup(ask(client, QUESTION, htmx=True))
    second = follow_up(
        client, first, "Quelles formations me conseillez-vous ?",
        p_department="62", p_max_hours="21", p_audience="salarie",
    )
    assert text(second.select_one('.chip[data-field="department"]')) == "Département : Pas-de-Calais (62)"
    assert text(second.select_one('.chip[data-field="max_hours"]')) == "Durée max : 21 h"
    assert second.select_one("#audience input[type=radio][value=salarie]").has_attr("checked")
    cards = second.select(".card.training")
    assert cards
    for card in cards:
        if card.select_one(".relaxed"):
            continue
        hours = float(text(card.select_one(".key-facts")).split(" · ")[2].split()[0].replace(",", "."))
        assert hours <= 21


def test_changing_the_job_in_the_profile_changes_the_job(client):
    first = soup(ask(client, QUESTION, htmx=True))
    second = follow_up(client, first, "Quelles formations ?", p_role="N1301")
    assert text(second.select_one('.chip[data-field="role"]')) == "Métier : Responsable logistique"
    assert second.select_one("#p-role option[selected]")["value"] == "N1301"


def test_an_unknown_job_in_the_profile_is_refused(client):
    response = ask(client, QUESTION, avant_role="", p_role="astronaute")
    assert response.status_code == 422
    assert "Métier inconnu" in text(soup(response).select_one("article.turn .error"))


def test_stated_constraints_survive_the_next_question(client):
    first = soup(ask(client, "Formation IA pour un comptable, budget maximum 1500 euros, 2 jours maximum", htmx=True))
    assert text(first.select_one('.chip[data-field="max_price"]')) == "Budget max : 1 500 €"
    assert first.select_one("#p-max-price")["value"] == "1500"
    assert first.select_one("#p-max-hours")["value"] == "14"
    second = follow_up(client, first, "et à distance ?")
    assert text(second.select_one('.chip[data-field="max_price"]')) == "Budget max : 1 500 €"
    assert text(second.select_one('.chip[data-field="max_hours"]')) == "Durée max : 14 h"
    assert text(second.select_one('.chip[data-field="format"]')) == "Mode : distanciel"
    # Emptying a field of the profile removes that constraint.
    third = follow_up(client, second, "Et en présentiel ?", p_max_price="")
    assert not third.select_one('.chip[data-field="max_price"]')
    assert text(third.select_one('.chip[data-field="max_hours"]')) == "Durée max : 14 h"


def test_a_script_in_the_question_is_shown_as_text(client):
    question = "<script>alert('x')</script> C'est quoi l'IA ?"
    for htmx in (False, True):
        response = ask(client, question, htmx=htmx)
        assert "<script>alert" not in response.text
        assert "&lt;script&gt;alert" in response.text
        html = soup(response)
        assert question in text(html.select_one("article.turn .question"))
        assert not [s for s in html.select("script") if not s.get("src")]


def test_an_empty_question_is_refused_in_french(client):
    response = ask(client, "   ")
    assert response.status_code == 422
    alert = soup(response).select_one("article.turn .error[role=alert]")
    assert alert and text(alert)


def test_invalid_profile_values_are_refused_in_french(client):
    response = ask(client, QUESTION, avant_max_hours="", p_max_hours="-3")
    assert response.status_code == 422
    assert "Durée maximale" in text(soup(response).select_one(".error"))


# -- Sources -------------------------------------------------------------------------------------


def test_source_page_and_panel(client):
    html = page(client, "/sources/role:M1203:1")
    assert "France Travail" in text(html.select_one(".passage-source"))
    assert "M1203" in text(html.select_one(".passage-text"))
    fragment = client.get("/sources/role:M1203:1", headers=HX)
    assert "<html" not in fragment.text
    panel = soup(fragment)
    assert panel.select_one("h4.passage-title") and panel.select_one("[data-close-panel]")


def test_errors_for_htmx_are_fragments(client):
    response = client.get("/sources/study:nope:1", headers=HX)
    assert response.status_code == 404
    assert "<html" not in response.text
    assert "Source introuvable" in text(soup(response).select_one("[role=alert]"))


def test_illustrative_sources_are_labelled(client):
    html = page(client, "/sources/training:F001:1")
    assert text(html.select_one(".passage-meta .badge")) == "exemple"


# -- Catalogue -----------------------------------------------------------------------------------


def _cards(html) -> list:
    return html.select("#resultats .card.training")


def test_catalogue_lists_and_paginates(client):
    html = page(client, "/formations")
    form = html.select_one("form.facets")
    assert form["method"] == "get" and form["hx-get"] == "/formations" and form["hx-push-url"] == "true"
    for name in ("q", "role", "department", "format", "max_hours", "max_price", "funding", "certifying"):
        assert form.select(f"[name={name}]"), name
    assert len(_cards(html)) == 20
    assert not html.select_one("details.more-filters").has_attr("open")
    count = text(html.select_one("#resultats-statut"))
    assert "formations trouvées" in count and "1 à 20" in count
    next_link = html.select_one(".pagination a[rel=next]")
    assert next_link["href"] == "/formations?offset=20"
    second = page(client, next_link["href"])
    assert "21 à 40" in text(second.select_one("#resultats-statut"))
    assert second.select_one(".pagination a[rel=prev]")["href"] == "/formations?offset=0"


def test_catalogue_filters_keep_their_values(client):
    url = "/formations?department=62&format=mixte&max_hours=35&funding=opco&certifying=non&q="
    html = page(client, url)
    assert html.select_one("#f-department option[selected]")["value"] == "62"
    assert html.select_one("#f-format option[selected]")["value"] == "mixte"
    assert html.select_one("#f-max-hours")["value"] == "35"
    assert html.select_one("input[name=funding][value=opco]").has_attr("checked")
    assert html.select_one("details.more-filters").has_attr("open"), "active criteria stay visible"
    cards = _cards(html)
    assert cards
    for card in cards:
        facts = text(card.select_one(".key-facts")).split(" · ")
        assert facts[0].endswith("(62)") and facts[1] == "mixte"
        assert float(facts[2].split()[0].replace(",", ".")) <= 35
        assert "OPCO" in text(card) and "non certifiante" in text(card)
    export = html.select_one(".export a")
    assert export["href"] == "/formations.csv?department=62&format=mixte&max_hours=35&certifying=non&funding=opco"


def test_catalogue_fragment_for_htmx(client):
    response = client.get("/formations?department=59", headers=HX)
    assert response.status_code == 200 and "<html" not in response.text
    html = soup(response)
    assert _cards(BeautifulSoup(f'<div id="resultats">{response.text}</div>', "html.parser"))
    status = html.select_one("#resultats-statut")
    assert status["hx-swap-oob"] == "innerHTML" and "formations trouvées" in text(status)
    assert not html.select("form")


def test_catalogue_by_role_and_search(client):
    html = page(client, "/formations?role=M1203")
    titles = [text(a) for a in html.select("#resultats .card-title a")]
    assert "L'IA générative au service des comptables" in titles
    html = page(client, "/formations?q=Python")
    assert any("Python" in text(c) for c in _cards(html))


def test_catalogue_refuses_bad_filters_in_french(client):
    html = page(client, "/formations?department=99", status=422)
    assert "Valeur inconnue" in text(html.find(role="alert"))
    html = page(client, "/formations?max_price=beaucoup", status=422)
    assert "Budget maximal" in text(html.find(role="alert"))


def test_csv_export_matches_the_filters(client):
    response = client.get("/formations.csv?department=59&format=présentiel&funding=opco")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:8] == ["Identifiant", "Intitulé", "Organisme", "Ville", "Département", "Modalité", "Durée (heures)", "Prix (€ TTC)"]
    assert body
    for row in body:
        record = dict(zip(header, row, strict=True))
        assert record["Département"] == "Nord (59)" and record["Modalité"] == "présentiel"
        assert "OPCO" in record["Financements"]
        assert record["Exemple illustratif"] in ("oui", "non")
    listed = page(client, "/formations?department=59&format=présentiel&funding=opco&limit=100")
    assert [r[0] for r in body] == [a["href"].rsplit("/", 1)[1] for a in listed.select("#resultats .card-title a")]


# -- Records -------------------------------------------------------------------------------------


def test_training_page(client):
    html = page(client, "/formations/F002")
    assert text(html.select_one(".badge")) == "Exemple de formation"
    # An invented training never claims to prepare a real certification.
    assert not html.select_one("a[href^='/certifications/']")
    assert html.select_one("a[href='/metiers/M1805']")


def test_certifications_pages(client):
    html = page(client, "/certifications")
    codes = [text(a) for a in html.select("table a")]
    assert "RNCP37827" in codes and "RS6776" in codes and len(codes) >= 100
    assert not any(code.startswith(("RNCP9", "RS9")) for code in codes)
    html = page(client, "/certifications/RNCP37827")
    assert text(html.find("h1")) == "RNCP37827 : Développeur en intelligence artificielle"
    assert html.select_one("a[href='https://www.francecompetences.fr/recherche/rncp/37827/']")
    blocs = [text(h) for h in html.select(".bloc h3")]
    assert len(blocs) == 3 and blocs[0].startswith("RNCP37827BC01")
    # A fiche whose title the export does not give is named by its code, with its certifier.
    html = page(client, "/certifications/RNCP35255")
    assert text(html.find("h1")) == "Certification RNCP35255"
    assert "AIVANCITY" in text(html.select_one("dl.facts"))


def test_role_page_shows_the_rome_sheet(client):
    html = page(client, "/metiers/M1805")
    assert "M1805" in text(html.select_one("#rome-code"))
    assert html.select_one("a[href='https://candidat.francetravail.fr/metierscope/fiche-metier/M1805']")
    assert text(html.select_one("#definition .lead"))
    skills = html.select("#skills > ul.skills > li")
    flags = ["digital" in (li.get("class") or []) for li in skills]
    assert any(flags) and flags == sorted(flags, reverse=True), "digital-transition skills first"
    assert html.select("#close a[href^='/metiers/']")
    assert "estimation Orientia" in text(html.select_one("#exposure"))
    assert "Repère Orientia" in text(html.select_one("#orientia-note"))
    assert html.select_one("#blocs a[href='/certifications/RNCP37827']")
    assert html.select(".cards .card.training")
    assert html.select_one("a[href='/formations?role=M1805']")


def test_role_page_says_when_the_study_does_not_cover_the_job(client):
    html = page(client, "/metiers/L1101")
    assert "L’étude régionale ne couvre pas ce métier" in text(html.select_one("#exposure"))
    assert not html.select_one("#exposure .exposure")


def test_roles_list_by_domain_and_search(client):
    html = page(client, "/metiers")
    domains = html.select("a[href^='/metiers?domaine=']")
    assert len(domains) >= 100
    html = page(client, "/metiers?domaine=M12")
    links = html.select("table a[href^='/metiers/']")
    assert any(text(a) == "Comptable" for a in links)
    html = page(client, "/metiers?q=aide-soignante")
    assert any(a["href"] == "/metiers/J1501" for a in html.select("table a"))
    fragment = client.get("/metiers?q=comptable", headers=HX)
    assert "<html" not in fragment.text and "/metiers/M1203" in fragment.text


def test_about_page_tells_the_provenance(client):
    html = page(client, "/a-propos")
    body = text(html.main)
    for fact in ("MEDEF Lille Métropole", "OPCALIA", "Erdyn", "Katalyse", "17 septembre 2019"):
        assert fact in body.replace("\u00a0", " "), fact
    assert "exemples illustratifs" in body
    for release in ("v460", "septembre 2025", "17 janvier 2024", "Code officiel géographique 2026", "1584 fiches", "3782 communes"):
        assert release in body.replace("\u00a0", " ").replace("\u202f", " "), release


def test_french_typography(client):
    html = page(client, "/")
    assert html.h1.get_text().endswith("métier\u202f?")
    html = page(client, "/formations/F002")
    assert "artificielle\u202f: parcours" in html.h1.get_text()
    assert "8\u202f400\u00a0€" in html.select_one("dl.facts").get_text()
