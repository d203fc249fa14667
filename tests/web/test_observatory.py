"""The observatory, feedback and privacy, after a scripted session through the real app.

Questions go through the real Assistant over the bundled corpus (API and chat page), opinions
through ``POST /api/feedback`` and the form under each answer; the dashboard, its JSON, its CSV
exports and every stored byte are then checked against what was sent.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from stdnum import luhn
from stdnum.fr import nir

from ..conftest import ready_client

TOKEN = "jeton-observatoire-de-test"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
HX = {"HX-Request": "true"}

NIR_BODY = "1780459350123"
NIR = NIR_BODY + nir.calc_check_digits(NIR_BODY)
IBAN_FR = "FR7630006000011234567890189"
CARD = "497010000000000" + luhn.calc_check_digit("497010000000000")

#: Personal data typed in the session: none of it may reach the database, a file or a log.
SECRETS = [
    "Lefebvre", "marie.lefebvre@example.fr", "06 12 34 56 78", "0612345678", "Kévin", "Dufour",
    "kevin.dufour@example.com", NIR, IBAN_FR, CARD, "rue des Tilleuls", "59800 Lille",
    "+33 3 22 45 67 89", "Jean-Baptiste", "Wattrelot", "07 88 99 11 22",
]

#: (via, question, conversation label): "api" asks POST /api/ask, "page" posts the chat form.
SCRIPT = [
    ("api", "Je suis comptable à Arras, que dois-je apprendre sur l'IA ? Je m'appelle Marie Lefebvre, "
            "marie.lefebvre@example.fr, 06 12 34 56 78", "a"),
    ("api", "et à distance ?", "a"),
    ("api", "Formations IA courtes en distanciel pour 10 assistants de direction, finançables par l'OPCO", "b"),
    ("api", "Quelle est la recette de la tarte au maroilles ? Rappelez-moi au 0612345678", "c"),
    ("api", "Une formation IA en présentiel de moins de 3 heures dans l'Aisne pour un comptable, certifiante", "d"),
    ("page", "C'est quoi l'IA ? Je suis au lycée, moi c'est Kévin Dufour, kevin.dufour@example.com", "e"),
    ("api", f"Mon numéro de sécu est {NIR}, mon IBAN {IBAN_FR}, ma carte {CARD} : quelles formations "
            "CPF pour un infirmier à Amiens ?", "f"),
    ("page", "Quels blocs de compétences dans la certification RS9101 ? J'habite 4 rue des Tilleuls, 59800 Lille", "g"),
    ("api", "Comment former mon équipe logistique à l'IA ? Contact : M. Wattrelot, +33 3 22 45 67 89", "h"),
]


@pytest.fixture(scope="module")
def client(corpus_dir, tmp_path_factory, embedder):
    """The app over a private copy of the corpus, with an admin token and the public view on."""
    target = tmp_path_factory.mktemp("observatory") / "data"
    with ready_client(corpus_dir, target, embedder, admin_token=TOKEN, observatory_public=True) as client:
        client.data_dir = target
        yield client


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def session(client):
    """Run the script; returns the answers (JSON) in order and every log line written meanwhile."""
    handler = _Records()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    conversations: dict[str, str] = {}
    answers = []
    try:
        for via, question, label in SCRIPT:
            if via == "api":
                body = {"question": question}
                if label in conversations:
                    body["conversation_id"] = conversations[label]
                response = client.post("/api/ask", json=body)
                assert response.status_code == 200, response.text
                answer = response.json()
            else:
                response = client.post("/", data={"question": question})
                assert response.status_code == 200, response.text[:300]
                html = BeautifulSoup(response.text, "html.parser")
                form = html.select_one(".feedback form")
                assert form is not None, "the feedback form is under the answer"
                conversation_id = form.select_one("input[name=conversation_id]")["value"]

                def shown(name: str, html=html) -> str | None:
                    node = html.select_one(f"input[name=avant_{name}]")
                    return (node["value"] or None) if node else None

                # What the page understood, read back from the profile form it shows.
                answer = {
                    "conversation_id": conversation_id, "page": html,
                    "answered": html.select_one(".answer.declined") is None, "trainings": [],
                    "profile": {"department": shown("department"), "audience": shown("audience"), "rome_code": None},
                }
            conversations.setdefault(label, answer["conversation_id"])
            answers.append(answer)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    return {"answers": answers, "conversations": conversations, "logs": handler.lines}


def _report(client, **params) -> dict:
    response = client.get("/api/admin/observatory", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


# -- Feedback ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opinions(client, session):
    """Opinions on three answers, one given twice (the second replaces the first)."""
    a, b = session["conversations"]["a"], session["conversations"]["b"]
    sent = [
        ({"conversation_id": a, "turn": 1, "useful": False, "reason": "Il manque des sources",
          "comment": "Je suis Jean-Baptiste Wattrelot, rappelez-moi au 07 88 99 11 22"}, 201),
        ({"conversation_id": a, "turn": 1, "helpful": False, "reason": "reponse_incomplete",
          "comment": "Mon nom est Dufour, kevin.dufour@example.com"}, 200),
        ({"conversation_id": a, "useful": True}, 201),  # turn 2, the latest
        ({"conversation_id": b, "useful": False, "reason": "la formation ne correspond pas a ma situation"}, 201),
    ]
    for body, status in sent:
        response = client.post("/api/feedback", json=body)
        assert response.status_code == status, response.text
        assert response.json() == {"status": "enregistré" if status == 201 else "remplacé"}
    return sent


def test_feedback_refuses_an_unknown_conversation(client, session):
    response = client.post("/api/feedback", json={"conversation_id": "inconnue0123456789", "useful": True, "comment": "x"})
    assert response.status_code == 404
    assert "Conversation inconnue" in response.json()["detail"]
    # Without a conversation at all: refused as invalid, nothing stored.
    assert client.post("/api/feedback", json={"useful": True, "comment": "sans conversation"}).status_code == 422


def test_feedback_checks_reason_and_turn(client, session):
    a = session["conversations"]["a"]
    response = client.post("/api/feedback", json={"conversation_id": a, "useful": False, "reason": "trop long"})
    assert response.status_code == 422
    assert "Raison inconnue" in response.json()["detail"] and "Il manque des sources" in response.json()["detail"]
    response = client.post("/api/feedback", json={"conversation_id": a, "useful": False, "turn": 9})
    assert response.status_code == 422 and "2 réponse" in response.json()["detail"]


def test_feedback_response_reveals_no_total_or_id(client, session, opinions):
    response = client.post("/api/feedback", json={"conversation_id": session["conversations"]["b"], "useful": False, "reason": "autre"})
    assert response.status_code == 200
    assert response.json() == {"status": "remplacé"}
    # put the opinion back as the fixture left it
    client.post("/api/feedback", json={"conversation_id": session["conversations"]["b"], "useful": False, "reason": "formation_inadaptee"})


def test_feedback_form_without_javascript_and_with_htmx(client, session):
    e = session["conversations"]["e"]
    page = client.post("/avis", data={"conversation_id": e, "turn": "1", "useful": "non", "reason": "sources_manquantes", "comment": "merci", "anchor": "t1-source"})
    assert page.status_code == 201
    html = BeautifulSoup(page.text, "html.parser")
    assert html.find("h1").get_text(strip=True) == "Merci pour votre avis"
    assert "enregistré" in html.select_one(".feedback-done").get_text()
    fragment = client.post("/avis", data={"conversation_id": e, "useful": "oui", "anchor": "t1-source"}, headers=HX)
    assert fragment.status_code == 200
    html = BeautifulSoup(fragment.text, "html.parser")
    assert html.find("h1") is None
    assert html.select_one("#t1-source-avis .feedback-done").get_text(strip=True).endswith("remplacé.")
    assert client.post("/avis", data={"conversation_id": "absente", "useful": "oui"}).status_code == 404
    assert client.post("/avis", data={"conversation_id": e}).status_code == 422


def test_feedback_form_under_each_answer(session):
    page = session["answers"][5]["page"]
    form = page.select_one(".feedback form")
    assert form["action"] == "/avis" and form["method"] == "post" and form["hx-post"] == "/avis"
    assert {i["value"] for i in form.select("input[name=useful]")} == {"oui", "non"}
    assert [i["value"] for i in form.select("input[name=reason]")] == [
        "informations_fausses", "sources_manquantes", "formation_inadaptee", "reponse_incomplete", "autre",
    ]
    reasons = [label.get_text(" ", strip=True) for label in form.select("label:has(input[name=reason])")]
    assert reasons == [
        "Les informations sont fausses", "Il manque des sources",
        "La formation ne correspond pas à ma situation", "Réponse incomplète", "Autre",
    ]
    assert form.select_one("textarea[name=comment]") is not None
    assert form.select_one("input[name=turn]")["value"] == "1"


# -- Counts ----------------------------------------------------------------------------------------


def _api_answers(session) -> list[dict]:
    return [a for a in session["answers"] if "page" not in a]


def test_json_counts_match_the_session(client, session, opinions):
    report = _report(client)
    answers = session["answers"]
    assert report["questions_total"] == len(SCRIPT)
    assert report["answered_total"] == sum(a["answered"] for a in answers)
    assert report["unanswered_total"] == sum(not a["answered"] for a in answers) >= 1
    by_department = {c["key"]: c["count"] for c in report["by_department"] if c["count"]}
    assert by_department == Counter(a["profile"]["department"] or "non précisé" for a in answers)
    assert {c["key"] for c in report["by_department"]} >= {"02", "59", "60", "62", "80"}
    by_audience = {c["key"]: c["count"] for c in report["by_audience"]}
    assert by_audience == Counter(a["profile"]["audience"] or "inconnu" for a in answers)
    api = _api_answers(session)
    jobs = {c["key"]: c["count"] for c in report["by_job"]}
    for rome, n in Counter(a["profile"]["rome_code"] for a in api if a["profile"]["rome_code"]).items():
        assert jobs[rome] >= n  # the page questions may name a job too
    trainings = {c["key"]: c["count"] for c in report["trainings"]}
    for tid, n in Counter(t["id"] for a in api for t in a["trainings"]).items():
        assert trainings[tid] >= n
    assert {"questions_total", "answered_total", "feedback_total", "questions"} <= report.keys()


def test_json_filters_count_exactly(client, session, opinions):
    answers = session["answers"]
    for department in ("62", "80", "02"):
        report = _report(client, department=department)
        assert report["questions_total"] == sum(a["profile"]["department"] == department for a in answers)
    for audience in ("rh", "eleve", "salarie", "entreprise"):
        report = _report(client, audience=audience)
        assert report["questions_total"] == sum(a["profile"]["audience"] == audience for a in answers)


def test_feedback_counts_and_reasons(client, session, opinions):
    report = _report(client, department="62")  # conversation a is in Arras (62)
    # conversation a: turn 1 replaced (not useful, « Réponse incomplète »), turn 2 useful
    assert report["feedback_total"] == 2
    assert report["useful_total"] == 1 and report["not_useful_total"] == 1
    assert {c["key"]: c["count"] for c in report["feedback_reasons"]} == {"reponse_incomplete": 1}
    everything = _report(client)
    reasons = {c["key"]: c["count"] for c in everything["feedback_reasons"]}
    assert reasons.get("formation_inadaptee") == 1 and reasons.get("reponse_incomplete") == 1


def test_unmet_constraints_are_a_french_sentence(client, session):
    api = _api_answers(session)
    impossible = api[4]  # 3 hours, in person, in the Aisne, certifying
    assert impossible["trainings"] and all(t["relaxed"] for t in impossible["trainings"])
    report = _report(client)
    sentences = [c["key"] for c in report["unmet"]]
    assert any(s.startswith("aucune formation certifiante en présentiel d'au plus 3 h") and s.endswith("dans l'Aisne") for s in sentences), sentences


def test_records_hold_codes_and_scrubbed_text_only(client, session):
    report = _report(client)
    records = report["questions"]
    assert len(records) == len(SCRIPT)
    texts = " ".join(r["question"] or "" for r in records)
    for secret in SECRETS:
        assert secret not in texts, secret
    assert "[courriel]" in texts and "[téléphone]" in texts and "[nom]" in texts
    assert "[numéro de sécurité sociale]" in texts and "[IBAN]" in texts and "[carte bancaire]" in texts
    assert "[adresse]" in texts
    assert not {"id", "conversation_id", "conversation_key"} & set(records[0])
    declined = [r for r in report["unanswered"]]
    assert declined and all(not r["answered"] for r in declined)


def test_period_filter(client, session):
    assert _report(client, period="1")["questions_total"] == len(SCRIPT)
    assert client.get("/api/admin/observatory", params={"period": "jamais"}, headers=ADMIN).status_code == 422
    assert client.get("/api/admin/observatory", params={"department": "75"}, headers=ADMIN).status_code == 422


# -- Access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer faux"}, {"Authorization": f"Basic {TOKEN}"}])
def test_admin_views_need_the_token(client, headers):
    response = client.get("/api/admin/observatory", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Accès réservé aux administrateurs : authentification requise."}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    page = client.get("/observatoire", headers=headers)
    assert page.status_code == 401
    html = BeautifulSoup(page.text, "html.parser")
    assert html.html["lang"] == "fr" and "administrateurs" in html.get_text()
    assert client.get("/observatoire/export/publics.csv", headers=headers).status_code == 401


# -- Dashboard -----------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_dashboard_shows_the_counts_charts_and_tables(client, session, opinions):
    report = _report(client)
    response = client.get("/observatoire", headers=ADMIN)
    assert response.status_code == 200
    html = BeautifulSoup(response.text, "html.parser")
    assert html.find("h1").get_text(" ", strip=True).startswith("Observatoire régional")
    assert html.select_one("#obs-questions").get_text(strip=True) == str(len(SCRIPT))
    assert html.select_one("#obs-answered").get_text(strip=True) == str(report["answered_total"])
    assert html.select_one("#obs-feedback").get_text(strip=True) == str(report["feedback_total"])
    sections = html.select("section.obs-table")
    charts = html.select("svg[role=img]")
    assert len(charts) >= 8
    for svg in charts:
        title = svg.find("title")
        assert title and title.get_text(strip=True)
        assert svg["aria-labelledby"].split()[0] == title["id"]
    departments = html.select_one("#departements table")
    rows = {tr.th.get_text(strip=True): int(tr.td.get_text(strip=True)) for tr in departments.select("tbody tr")}
    assert {c["label"]: c["count"] for c in report["by_department"]} == rows
    assert len(html.select("#graphique-departements g")) == len(report["by_department"])
    assert sections and all(s.select_one("table") or s.select_one("p.muted") for s in sections)
    unanswered = html.select("#questions-sans-reponse tbody tr")
    assert len(unanswered) == report["unanswered_total"]
    page_text = html.get_text(" ")
    for secret in SECRETS:
        assert secret not in page_text


def test_every_csv_export_parses(client, session, opinions):
    html = BeautifulSoup(client.get("/observatoire", headers=ADMIN).text, "html.parser")
    links = [a["href"] for a in html.select("a[download]")]
    assert len(links) >= 10
    for href in links:
        rows = _csv(client.get(href, headers=ADMIN))
        slug = href.split("/")[-1].removesuffix(".csv")
        table = html.select_one(f"#{slug} table")
        assert len(rows) - 1 == len(table.select("tbody tr")), slug
        if slug not in ("questions-sans-reponse", "questions-recentes"):
            shown = [[tr.th.get_text(strip=True), tr.td.get_text(strip=True)] for tr in table.select("tbody tr")]
            assert rows[1:] == shown, slug
    assert client.get("/observatoire/export/inconnu.csv", headers=ADMIN).status_code == 404


def test_filters_on_the_page(client, session):
    api = _api_answers(session)
    html = BeautifulSoup(client.get("/observatoire?department=62&period=30", headers=ADMIN).text, "html.parser")
    assert html.select_one("#obs-questions").get_text(strip=True) == str(sum(a["profile"]["department"] == "62" for a in api))
    assert html.select_one("#obs-department option[selected]")["value"] == "62"
    assert html.select_one("#obs-period option[selected]")["value"] == "30"
    assert "department=62" in html.select_one("a[download]")["href"]


def test_public_view_merges_small_counts_and_shows_no_text(client, session, opinions):
    response = client.get("/observatoire/public")
    assert response.status_code == 200
    html = BeautifulSoup(response.text, "html.parser")
    assert "Vue publique agrégée" in html.get_text()
    assert html.select_one("#questions-recentes") is None and html.select_one("#questions-sans-reponse") is None
    for table in html.select("section.obs-table table"):
        for tr in table.select("tbody tr"):
            label, count = tr.th.get_text(strip=True), int(tr.td.get_text(strip=True))
            assert count >= 5 or label == "autres" or table.find_parent("section")["id"] == "departements" and count == 0 or count == 0, (label, count)
    for a in html.select("a[download]"):
        assert a["href"].startswith("/observatoire/public/export/")
        rows = _csv(client.get(a["href"]))
        assert all(int(n) >= 5 or label == "autres" or int(n) == 0 for label, n in rows[1:])
    assert client.get("/observatoire/public/export/questions-recentes.csv").status_code == 404


# -- Privacy -------------------------------------------------------------------------------------


def test_no_personal_data_in_logs(session, opinions, client, caplog):
    lines = "\n".join(session["logs"])
    for secret in SECRETS:
        assert secret not in lines, secret
    with caplog.at_level(logging.DEBUG):
        client.get("/formations", params={"q": "marie.lefebvre@example.fr"})
        client.post("/api/feedback", json={"conversation_id": "x" * 70, "useful": True, "comment": "Kévin Dufour 06 12 34 56 78"})
    assert caplog.records
    for secret in SECRETS:
        assert secret not in caplog.text


def test_no_personal_data_in_stored_files(client, session, opinions):
    files = [p for p in client.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "orientia.sqlite3" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode("utf-8") not in data, (secret, path)


def test_conversation_state_is_scrubbed(client, session):
    store = client.app.state.assistant.index.store
    assert client.app.state.assistant.conversation_turns(session["conversations"]["a"]) == 2
    state = store.load_conversation(session["conversations"]["f"], max_age_hours=24)
    assert "[numéro de sécurité sociale]" in state["question"] and "[IBAN]" in state["question"]
    assert NIR not in state["question"] and IBAN_FR not in state["question"]


def test_words_cut_from_personal_data_are_not_asked_about(corpus_assistant):
    """An unknown job read across a phone number is no job: the state never echoes the fragment."""
    import json

    first = corpus_assistant.answer("Je suis secrétaire, quelles formations IA ?")
    second = corpus_assistant.answer(
        "médicale, je suis Kévin Dufour 06 12 34 56 78", conversation_id=first.conversation_id
    )
    state = corpus_assistant.index.store.load_conversation(second.conversation_id, max_age_hours=24)
    stored = json.dumps(state, ensure_ascii=False)
    assert "Dufour 06" not in stored and "06 12" not in stored
    assert "Dufour 06" not in second.answer


# -- Retention -----------------------------------------------------------------------------------


def test_retention_purge_runs_while_the_app_serves(corpus_dir, tmp_path, embedder):
    from assistant.observatory import conversation_key

    with ready_client(
        corpus_dir, tmp_path / "data", embedder, admin_token=TOKEN, retention_days=1,
        conversation_ttl_hours=1, purge_interval_minutes=0.005,
    ) as client:
        fresh = client.post("/api/ask", json={"question": "Quelles formations en IA pour un comptable ?"}).json()
        assert client.post("/api/feedback", json={"conversation_id": fresh["conversation_id"], "useful": True}).status_code == 201
        store = client.app.state.assistant.index.store
        old = datetime.now(UTC) - timedelta(days=3)
        store.add_observation({
            "created_at": old, "conversation_key": conversation_key("ancienne"), "turn": 1, "answered": True,
            "latency_ms": 10.0, "unmet": "", "data": {}, "question": "ancienne question",
        })
        store.save_feedback(conversation_key=conversation_key("ancienne"), turn=1, useful=False, reason=None, comment="")
        store.save_conversation("ancienne", {"turn": 1, "turns": 1})
        import sqlalchemy as sa

        from assistant.store import conversations, feedback

        with store.engine.begin() as conn:
            conn.execute(feedback.update().where(feedback.c.conversation_key == conversation_key("ancienne")).values(updated_at=old, created_at=old))
            conn.execute(conversations.update().where(conversations.c.id == "ancienne").values(updated_at=old))
            assert conn.execute(sa.select(sa.func.count()).select_from(conversations).where(conversations.c.id == "ancienne")).scalar() == 1

        def old_conversation_left() -> bool:
            with store.engine.connect() as conn:
                return bool(conn.execute(sa.select(sa.func.count()).select_from(conversations).where(conversations.c.id == "ancienne")).scalar())

        deadline = time.monotonic() + 60
        while _report(client)["questions_total"] != 1 or old_conversation_left():
            assert time.monotonic() < deadline, "the purge never ran while the app served"
            time.sleep(0.2)
        report = _report(client)
        assert report["feedback_total"] == 1 and report["questions"][0]["question"] != "ancienne question"
        assert store.load_conversation(fresh["conversation_id"], max_age_hours=1) is not None


def test_question_text_can_be_turned_off(corpus_dir, tmp_path, embedder):
    with ready_client(corpus_dir, tmp_path / "data", embedder, admin_token=TOKEN, store_question_text=False) as client:
        client.post("/api/ask", json={"question": "Quelles formations en IA pour un comptable à Arras ?"})
        report = _report(client)
        assert report["questions_total"] == 1
        record = report["questions"][0]
        assert record["question"] is None and record["department"] == "62" and record["rome_code"]
        html = BeautifulSoup(client.get("/observatoire", headers=ADMIN).text, "html.parser")
        assert "texte non conservé" in html.select_one("#questions-recentes").get_text()


def test_public_view_is_off_by_default(corpus_dir, tmp_path, embedder):
    with ready_client(corpus_dir, tmp_path / "data", embedder) as client:
        assert client.get("/observatoire/public").status_code == 404
        # no admin token configured: nobody gets in
        assert client.get("/api/admin/observatory", headers={"Authorization": "Bearer "}).status_code == 401


def test_public_view_hides_small_totals(client, session):
    html = BeautifulSoup(client.get("/observatoire/public?department=02").text, "html.parser")
    assert html.select_one("#obs-questions").get_text(strip=True) == "moins de 5"
    admin = BeautifulSoup(client.get("/observatoire?department=02", headers=ADMIN).text, "html.parser")
    assert admin.select_one("#obs-questions").get_text(strip=True) == "1"
