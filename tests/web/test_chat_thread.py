"""The chat thread (issue 15): stored turns, quick replies, chat-sized answers, compare and keep.

Through the app's real lifespan over the ingested bundled corpus, HTML checked with BeautifulSoup.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from assistant.models import Answer, Clarify, Profile
from web.routes.pages import COOKIE

from ..conftest import ready_client

HX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
QUESTION = "Quelles formations en IA pour un comptable ?"


@pytest.fixture(scope="module")
def client(corpus_dir, tmp_path_factory, embedder):
    """One app over a private copy of the ingested corpus, with its lifespan running."""
    with ready_client(corpus_dir, tmp_path_factory.mktemp("chat-thread") / "data", embedder) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh_browser(client):
    """Each test starts as a new visitor (no conversation cookie)."""
    client.cookies.clear()


def store(client):
    return client.app.state.assistant.index.store


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


def post(client, pairs: list[tuple[str, str]], *, htmx: bool = False, follow: bool = True):
    return client.post("/", content=urlencode(pairs), headers={**FORM, **(HX if htmx else {})}, follow_redirects=follow)


def ask(client, question: str, conversation_id: str = "") -> BeautifulSoup:
    """Ask as a browser without JavaScript: the post is redirected to the whole thread."""
    response = post(client, [("question", question), ("conversation_id", conversation_id)])
    assert response.status_code == 200, response.text[:500]
    return soup(response)


def conversation_id(html) -> str:
    return html.select_one("#profil input[name=conversation_id]")["value"]


def questions(html) -> list[str]:
    return [text(h).removeprefix("Votre question : ") for h in html.select("#conversation article.turn .question")]


# -- The thread ----------------------------------------------------------------------------------


def test_a_plain_post_is_redirected_to_the_thread_and_sets_the_cookie(client):
    response = post(client, [("question", QUESTION)], follow=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/#tour-1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    assert "Max-Age=86400" in cookie, "the cookie lives as long as the conversation (24 h)"


def test_two_questions_then_a_reload_keep_both_turns_in_order(client):
    first = ask(client, QUESTION)
    cid = conversation_id(first)
    assert client.cookies.get(COOKIE) == cid
    ask(client, "et à distance ?", cid)
    html = soup(client.get("/"))
    assert questions(html) == [QUESTION, "et à distance ?"]
    assert [a["id"] for a in html.select("#conversation article.turn")] == ["tour-1", "tour-2"]
    assert conversation_id(html) == cid
    # The question box comes after the last turn.
    order = [n for n in html.find_all(True) if (n.name == "textarea" and n.get("name") == "question") or (n.name == "article" and "turn" in n.get("class", []))]
    assert [n.name for n in order] == ["article", "article", "textarea"]
    assert html.select_one("#conversation")["aria-live"] == "polite"
    # The profile form shows what the last turn understood.
    assert "distanciel" in text(html.select_one('#profil .chip[data-field="format"]'))


def test_htmx_gets_the_new_turn_with_its_quick_replies_out_of_band(client):
    response = post(client, [("question", QUESTION)], htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    html = soup(response)
    turns = html.select("article.turn")
    assert len(turns) == 1 and turns[0]["id"] == "tour-1"
    suggestions = html.select_one("#suggestions")
    assert suggestions["hx-swap-oob"] == "innerHTML"
    assert 2 <= len(suggestions.select("button[name=question]")) <= 4
    assert html.select_one("#selection-bar")["hx-swap-oob"] == "innerHTML"
    assert html.select_one("#selection-bar button")
    second = post(client, [("question", "et à distance ?"), ("conversation_id", conversation_id(html))], htmx=True)
    assert [t["id"] for t in soup(second).select("article.turn")] == ["tour-2"]


def test_the_thread_is_shown_only_to_the_client_holding_the_cookie(client):
    cid = conversation_id(ask(client, QUESTION))
    client.cookies.clear()
    assert not soup(client.get("/")).select("article.turn")
    assert not soup(client.get(f"/?conversation={cid}")).select("article.turn"), "no thread from the URL"
    client.cookies.set(COOKIE, "inconnue-0123456789")
    html = soup(client.get("/"))
    assert not html.select("article.turn") and conversation_id(html) == ""
    client.cookies.set(COOKIE, "<script>")
    assert client.get("/").status_code == 200


def test_personal_data_is_scrubbed_from_the_stored_turn(client):
    question = "Je suis comptable, écrivez-moi à jeanne.martin@example.fr ou au 06 12 34 56 78, quelles formations ?"
    html = ask(client, question)
    cid = conversation_id(html)
    shown = questions(html)[0]
    assert "jeanne.martin@example.fr" not in shown and "06 12 34 56 78" not in shown
    assert "comptable" in shown
    with store(client).engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT question, answer FROM turns WHERE conversation_id = :c"), {"c": cid}).all()
    assert len(rows) == 1
    assert "jeanne.martin" not in rows[0].question + rows[0].answer
    assert "12 34 56 78" not in rows[0].question + rows[0].answer


def test_turns_expire_with_the_conversation(client):
    cid = conversation_id(ask(client, QUESTION))
    old = datetime.now(UTC) - timedelta(hours=25)
    with store(client).engine.begin() as conn:
        conn.execute(sa.text("UPDATE conversations SET updated_at = :t WHERE id = :c"), {"t": old, "c": cid})
    assert not soup(client.get("/")).select("article.turn")
    store(client).purge_conversations(max_age_hours=24)
    assert store(client).load_turns(cid) == []


def test_new_conversation_clears_the_thread(client):
    html = ask(client, QUESTION)
    cid = conversation_id(html)
    button = html.select_one("#question-form button[form=nouvelle-conversation]")
    assert text(button) == "Nouvelle conversation"
    target = html.select_one("form#nouvelle-conversation")
    assert target["method"] == "post" and target["action"] == "/nouvelle-conversation"
    response = client.post("/nouvelle-conversation", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert f'{COOKIE}=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    html = soup(client.get("/"))
    assert not html.select("article.turn") and conversation_id(html) == ""
    assert store(client).load_turns(cid) == []


def test_an_error_without_javascript_keeps_the_thread_and_the_draft(client):
    cid = conversation_id(ask(client, QUESTION))
    response = post(client, [("question", "x" * 1200), ("conversation_id", cid)])
    assert response.status_code == 422
    html = soup(response)
    assert questions(html)[0] == QUESTION, "the earlier turns are still shown"
    assert "trop longue" in text(html.select_one("article.turn .error[role=alert]"))
    assert html.select_one("textarea#question").get_text() == "x" * 1200


# -- Quick replies and clarifying questions ----------------------------------------------------


def test_quick_replies_are_buttons_of_the_question_form(client):
    html = ask(client, QUESTION)
    buttons = html.select("#question-form #suggestions button")
    assert 2 <= len(buttons) <= 4
    for button in buttons:
        assert button["name"] == "question" and button["type"] == "submit" and button.has_attr("formnovalidate")
        assert button["value"] and text(button)
    assert "Et à distance\u202f?" in [b["value"] for b in buttons]
    assert html.select_one("#question-form textarea[name=question]")
    # Only under the latest answer: one set of quick replies on the page.
    ask(client, "et à distance ?", conversation_id(html))
    assert len(soup(client.get("/")).select("#suggestions fieldset.quick-replies:not(.clarify)")) == 1


def test_a_quick_reply_is_sent_as_the_next_question(client):
    html = ask(client, QUESTION)
    cid = conversation_id(html)
    reply = "Et à distance\u202f?"
    # The browser sends the (empty) box and the clicked button, both named "question".
    html = soup(post(client, [("question", ""), ("question", reply), ("conversation_id", cid)]))
    assert questions(html) == [QUESTION, "Et à distance ?"]
    assert "distanciel" in text(html.select_one('#profil .chip[data-field="format"]'))
    # A draft left in the box does not win over the button clicked.
    offered = [b["value"] for b in html.select("#suggestions button")]
    html = soup(post(client, [("question", "un brouillon"), ("question", offered[0]), ("conversation_id", cid)]))
    assert questions(html)[-1] == " ".join(offered[0].split())


def _conversation_with_a_clarifying_question(client) -> tuple[str, list[str]]:
    """A conversation whose dialogue state waits for the answer to « which job? »."""
    from assistant.understanding import DialogueState, Pending

    cid = "clarifier0123456789abcdef"
    assistant = client.app.state.assistant
    roles = {r.rome_code: r for r in assistant.roles()}
    chosen = [roles["M1203"], roles["N1303"] if "N1303" in roles else roles["M1604"]]
    choices = {r.label: r.id for r in chosen}
    state = DialogueState(turn=1, question="Quelles formations pour mon métier ?", pending=Pending(
        slot="job", question="Quel est votre métier\u202f?", choices=choices,
    ))
    store(client).save_conversation(cid, state.model_dump(mode="json"))
    answer = Answer(
        conversation_id=cid, answered=True, answer="Pour vous répondre, il me faut votre métier.",
        profile=Profile(), clarify=Clarify(question="Quel est votre métier\u202f?", choices=list(choices)),
    )
    store(client).add_turn(cid, question="Quelles formations pour mon métier ?", answer=answer.model_dump(mode="json"))
    return cid, list(choices)


def test_a_clarifying_choice_answers_the_clarifying_question(client):
    cid, labels = _conversation_with_a_clarifying_question(client)
    client.cookies.set(COOKIE, cid)
    html = soup(client.get("/"))
    assert "Quel est votre métier" in text(html.select_one("article.turn .clarify-question"))
    group = html.select_one("#question-form fieldset.clarify")
    assert "Quel est votre métier" in text(group.legend)
    choices = group.select("button[name=question]")
    assert [b["value"] for b in choices] == labels
    html = soup(post(client, [("question", ""), ("question", labels[0]), ("conversation_id", cid)]))
    assert questions(html) == ["Quelles formations pour mon métier ?", labels[0]]
    assert labels[0].split(" /")[0] in text(html.select_one('#profil .chip[data-field="role"]'))
    assert not html.select("#question-form fieldset.clarify"), "the question was answered"


# -- Answers sized for a chat --------------------------------------------------------------------


def test_a_turn_shows_the_direct_answer_and_at_most_three_cards(client):
    html = ask(client, QUESTION)
    turn = html.select_one("article.turn")
    assert text(turn.select_one(".answer > .answer-text"))
    cards = turn.select("section.recommended > ul.cards > li.card.training")
    assert 1 <= len(cards) <= 3
    for card in cards:
        assert card.select_one(".key-facts") and card.select_one(".card-title a")["href"].startswith("/formations/")
        box = card.select_one("input[type=checkbox][name=compare]")
        assert box["form"] == "choix" and box["value"] and card.select_one(f"label input#{box['id']}")
    summaries = [text(d.summary) for d in turn.select("details.more")]
    assert any(s.startswith("Sources (") for s in summaries)
    assert "Ce que l'IA change" in summaries
    assert all(summaries)
    # Citations stay numbered and point at a source of this turn, in the collapsed section.
    sources = turn.select("details.sources-block ol.sources > li")
    cites = turn.select("a.cite")
    assert cites
    for cite in cites:
        assert turn.select_one(cite["href"]) in sources
    assert sources[0].select_one("a.source-link")["hx-get"].startswith("/sources/")


def test_a_follow_up_shows_what_changed(client):
    cid = conversation_id(ask(client, QUESTION))
    html = ask(client, "et à distance ?", cid)
    second = html.select("article.turn")[1]
    assert "Mode : distanciel" in text(second.select_one(".changes"))
    assert not html.select("article.turn")[0].select_one(".changes")
    for card in second.select("section.recommended > ul.cards > li.card"):
        assert " · distanciel · " in text(card.select_one(".key-facts"))


def test_the_json_api_is_unchanged_and_offers_quick_replies(client):
    response = client.post("/api/ask", json={"question": QUESTION})
    body = response.json()
    assert response.status_code == 200
    assert {"conversation_id", "answered", "answer", "profile", "citations", "trainings", "certifications"} <= body.keys()
    assert 2 <= len(body["quick_replies"]) <= 4
    assert "## " in body["answer"], "the API keeps the whole answer"


# -- Compare and keep ----------------------------------------------------------------------------


def _training_ids(html) -> list[str]:
    return list(dict.fromkeys(i["value"] for i in html.select("input[name=compare]")))


def test_compare_shows_the_ticked_trainings_side_by_side(client):
    html = ask(client, QUESTION)
    bar = html.select_one("form#choix")
    assert bar["method"] == "get" and bar["action"] == "/comparer"
    assert text(bar.select_one("button:not([formaction])")) == "Comparer la sélection"
    ids = _training_ids(html)[:3]
    assert len(ids) == 3
    page = soup(client.get("/comparer?" + urlencode([("compare", i) for i in ids])))
    table = page.select_one("table.compare")
    assert table.caption and "3 formations" in text(table.caption)
    columns = table.select("thead th[scope=col]")
    assert [c.a["href"] for c in columns] == [f"/formations/{i}" for i in ids]
    rows = [text(th) for th in table.select("tbody th[scope=row]")]
    assert rows == ["Organisme", "Lieu", "Mode", "Durée", "Prix", "Financements", "Certification", "Prochaine session"]
    for row in table.select("tbody tr"):
        assert len(row.select("td")) == 3
    assert "€" in text(table.select("tbody tr")[4]) and " h" in text(table.select("tbody tr")[3])
    wrap = page.select_one(".table-wrap")
    assert wrap["role"] == "region" and wrap["tabindex"] == "0" and wrap["aria-labelledby"] == table.caption["id"]
    # The same with ?ids=a,b,c (a shareable link).
    again = soup(client.get("/comparer?ids=" + ",".join(ids)))
    assert [c.a["href"] for c in again.select("thead th[scope=col]")] == [c.a["href"] for c in columns]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 422, "au moins deux formations"),
        ("?compare=F001", 422, "au moins deux formations"),
        ("?ids=F001,F002,F003,F004,F005", 422, "au plus 4"),
        ("?ids=F001,F999", 404, "Formation introuvable"),
    ],
)
def test_compare_refuses_bad_selections_in_french(client, query, status, message):
    response = client.get("/comparer" + query)
    assert response.status_code == status
    assert message in text(soup(response).select_one("[role=alert]"))


def test_kept_trainings_make_the_summary_and_its_export(client):
    html = ask(client, QUESTION)
    ids = _training_ids(html)[:3]
    response = client.post("/selection", data={"compare": ids}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/recapitulatif"
    # Back in the thread, the kept trainings are ticked.
    thread = soup(client.get("/"))
    assert {i["value"] for i in thread.select("input[name=compare][checked]")} == set(ids)

    page = soup(client.get("/recapitulatif"))
    assert text(page.h1) == "Mon récapitulatif Orientia"
    kept = [a["href"].rsplit("/", 1)[1] for a in page.select("#recap-formations ~ .recap-list h3 a, .recap-list h3 a")]
    assert list(dict.fromkeys(kept)) == ids
    assert "Comptable" in text(page.select_one("dl.facts"))
    assert QUESTION in text(page.select_one("ol.asked"))
    trainings = [client.app.state.assistant.training(i) for i in ids]
    codes = {t.certification_code for t in trainings if t.certification_code}
    section = page.select_one("section[aria-labelledby=recap-certifications]")
    proposed = [c.code for c in client.app.state.assistant.thread(conversation_id(html))[0].answer.certifications]
    if not codes and not proposed:
        # No kept training prepares a certification and the answer proposed none (examples
        # never claim a real certification): no empty section.
        assert section is None
    else:
        assert {a.get_text() for a in section.select(".cert-list:not(.proposed) > li > a")} == codes
        # The certifications the answer proposed are listed too, once.
        listed = [a.get_text() for a in section.select(".cert-list > li > a")]
        assert set(proposed) <= set(listed) and len(listed) == len(set(listed))
    steps = page.select("ol.steps > li")
    names = [text(s.h3) for s in steps]
    assert any("CEP" in n for n in names) and any("Proch" in n for n in names)
    assert any("OPCO" in n for n in names) and any("Mon Compte Formation" in n for n in names)
    assert "0800 02 60 80" in text(page.select_one("ol.steps"))
    for step in steps:
        href = step.select_one(".source a")["href"]
        passage = client.get(href)
        assert passage.status_code == 200, href
    assert not page.select("[style]")

    export = client.get("/recapitulatif.csv")
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="recapitulatif-orientia.csv"' in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Identifiant", "Intitulé", "Organisme"]
    assert [r[0] for r in rows[1:]] == ids


def test_the_comparison_adds_to_the_kept_trainings(client):
    html = ask(client, QUESTION)
    ids = _training_ids(html)
    client.post("/selection", data={"compare": ids[:1]})
    page = soup(client.get("/comparer?ids=" + ",".join(ids[1:3])))
    form = page.select_one("form[action='/selection']")
    assert [i["value"] for i in form.select("input[name=compare]")] == ids[1:3]
    client.post("/selection", content=urlencode([(i["name"], i["value"]) for i in form.select("input")]), headers=FORM)
    summary = soup(client.get("/recapitulatif"))
    assert [a["href"].rsplit("/", 1)[1] for a in summary.select(".recap-list h3 a")] == ids[:3]


def test_summary_and_keep_without_a_conversation(client):
    page = soup(client.get("/recapitulatif"))
    assert "Aucune conversation en cours" in text(page.main)
    response = client.post("/selection", data={"compare": ["F001"]})
    assert response.status_code == 404
    assert "Conversation introuvable" in text(soup(response).select_one("[role=alert]"))
    rows = list(csv.reader(io.StringIO(client.get("/recapitulatif.csv").content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1


def test_keeping_an_unknown_training_is_refused(client):
    ask(client, QUESTION)
    response = client.post("/selection", data={"compare": ["F999"]})
    assert response.status_code == 422
    assert "Formation inconnue" in text(soup(response).select_one("[role=alert]"))
