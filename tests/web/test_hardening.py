"""Hardening of the web layer (issue 14): bounded input, body limit, French errors everywhere,
security and cache headers, trusted hosts, rate limit, health checks apart from the answers."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from bs4 import BeautifulSoup

from ..conftest import ready_client

QUESTION = "Quelles formations IA pour un comptable ?"
JSON = {"Content-Type": "application/json"}
SECURITY = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


@pytest.fixture(scope="module")
def client(tmp_path_factory, corpus_dir, embedder):
    """One app over a private copy of the ingested corpus (rate limit off, as in every test)."""
    with ready_client(corpus_dir, tmp_path_factory.mktemp("hardening") / "data", embedder) as client:
        yield client


def _french_json(response) -> dict:
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    for english in ("error", "Error", "Not Found", "Method Not Allowed", "Too Large", "parsing", "Invalid"):
        assert english not in body["detail"], body["detail"]
    for name in SECURITY:
        assert name in response.headers, name
    return body


def _french_page(response) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html")
    for name in SECURITY:
        assert name in response.headers, name
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.html["lang"] == "fr"
    return soup


# -- Bounded numbers and lengths ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_profile",
    ['{"max_hours": 1e400}', '{"max_price": 1e400}', '{"max_hours": Infinity}', '{"max_price": NaN}',
     '{"max_price": -Infinity}', '{"max_hours": 1e9}', '{"max_price": 1e12}'],
)
def test_infinite_or_huge_numbers_are_refused_and_the_conversation_goes_on(client, raw_profile):
    first = client.post("/api/ask", json={"question": QUESTION})
    assert first.status_code == 200
    conversation = first.json()["conversation_id"]
    raw = f'{{"question": "et moins cher ?", "conversation_id": "{conversation}", "profile": {raw_profile}}}'
    response = client.post("/api/ask", content=raw, headers=JSON)
    assert response.status_code == 422
    body = _french_json(response)
    [entry] = body["errors"]
    assert entry["loc"][:2] == ["body", "profile"] and entry["type"] in {"finite_number", "less_than_equal", "greater_than_equal"}
    assert entry["msg"] in {
        "Nombre fini attendu.",
        "La valeur doit être inférieure ou égale à 10\u202f000.",
        "La valeur doit être inférieure ou égale à 1\u202f000\u202f000.",
        "La valeur doit être supérieure ou égale à 0.",
    }
    later = client.post("/api/ask", json={"question": "et à distance ?", "conversation_id": conversation})
    assert later.status_code == 200 and later.json()["profile"]["role"] == first.json()["profile"]["role"]


@pytest.mark.parametrize(
    "question",
    ["Formation IA de moins de 2000 mois pour moins de 99999999999 euros",
     "Formation IA de moins de " + "9" * 400 + " heures", "Formation IA de moins de 0 heures"],
)
def test_huge_numbers_in_a_question_are_no_constraint(client, question):
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200
    profile = response.json()["profile"]
    assert profile["max_hours"] is None and profile["max_price"] is None


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan", "-inf", "1e400", "99999999"])
def test_form_refuses_infinite_numbers_and_the_conversation_goes_on(client, value):
    first = client.post("/", data={"question": QUESTION}, headers={"HX-Request": "true"})
    assert first.status_code == 200
    conversation = BeautifulSoup(first.text, "html.parser").find("input", attrs={"name": "conversation_id"})["value"]
    response = client.post("/", data={
        "question": "et moins long ?", "conversation_id": conversation,
        "avant_max_hours": "", "p_max_hours": value,
    })
    assert response.status_code == 422
    soup = _french_page(response)
    assert "Durée maximale" in soup.find(class_="error").get_text()
    later = client.post("/", data={"question": "et à distance ?", "conversation_id": conversation})
    assert later.status_code == 200


@pytest.mark.parametrize(
    ("profile", "field", "msg"),
    [({"role_label": "x" * 5000}, "role_label", "Texte trop long : au plus 200 caractères."),
     ({"role": "x" * 101}, "role", "Texte trop long : au plus 100 caractères."),
     ({"sector": "x" * 101}, "sector", "Texte trop long : au plus 100 caractères."),
     ({"rome_code": "x" * 50}, "rome_code", "Format invalide."),
     ({"department": "5" * 5000}, "department", "Département inconnu (attendu : 02, 59, 60, 62, 80)"),
     ({"funding": ["cpf"] * 50}, "funding", "Trop d’éléments : au plus 6.")],
)
def test_profile_strings_and_lists_are_bounded(client, profile, field, msg):
    response = client.post("/api/ask", json={"question": QUESTION, "profile": profile})
    assert response.status_code == 422
    [entry] = _french_json(response)["errors"]
    assert entry["loc"] == ["body", "profile", field] and entry["msg"] == msg
    assert "x" * 100 not in response.text and "5" * 100 not in response.text, "the input is not echoed"


def test_a_long_job_in_the_form_is_not_echoed_whole(client):
    response = client.post("/", data={"question": QUESTION, "avant_role": "", "p_role": "y" * 50_000})
    assert response.status_code == 422
    assert "Métier inconnu" in response.text and "y" * 101 not in response.text


@pytest.mark.parametrize(
    "params",
    [{"max_hours": "inf"}, {"max_price": "Infinity"}, {"max_hours": "nan"}, {"max_price": "1e400"},
     {"max_hours": "100000"}, {"q": "x" * 201}, {"role": "x" * 101}, {"offset": "9" * 30},
     {"funding": ["cpf"] * 7}],
)
def test_catalogue_parameters_are_bounded(client, params):
    response = client.get("/api/trainings", params=params)
    assert response.status_code == 422
    assert _french_json(response)["errors"]


@pytest.mark.parametrize("params", ["max_hours=inf", "max_price=nan", "max_hours=1e400", "max_price=99999999"])
def test_catalogue_page_refuses_infinite_numbers(client, params):
    response = client.get(f"/formations?{params}")
    assert response.status_code == 422
    assert _french_page(response).find(class_="error")


# -- Body size -----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    big = json.dumps({"question": "x", "profile": {"role_label": "x" * 2_000_000}})
    response = client.post("/api/ask", content=big, headers=JSON)
    assert response.status_code == 413
    assert _french_json(response)["detail"] == "La requête est trop volumineuse (au plus 1 Mo)."


def test_a_streamed_body_without_length_is_counted(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = client.post("/api/ask", content=chunks(), headers=JSON)
    assert response.status_code == 413
    _french_json(response)


def test_a_large_form_upload_is_refused_in_french(client):
    response = client.post("/", data={"question": "ok"}, files={"fichier": ("a.bin", b"x" * 3_000_000)})
    assert response.status_code == 413
    assert "trop volumineuse" in _french_page(response).find(class_="error").get_text()


def test_admin_uploads_have_their_own_larger_limit(client):
    response = client.post("/api/admin/documents", files={"file": ("a.md", b"x" * 3_000_000)})
    assert response.status_code != 413


# -- French errors everywhere ----------------------------------------------------------------------


def test_404_and_405_are_french(client):
    assert _french_json(client.get("/api/nothing"))["detail"] == "Page introuvable."
    response = client.get("/api/ask")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert _french_json(response)["detail"] == "Méthode non autorisée pour cette adresse."
    page = client.get("/nulle-part")
    assert page.status_code == 404 and _french_page(page).h1.get_text() == "Page introuvable"
    page = client.put("/formations")
    assert page.status_code == 405
    assert "Méthode non autorisée" in _french_page(page).find(class_="error").get_text()


def test_validation_entries_are_french_with_loc_and_type(client):
    response = client.post("/api/ask", json={"question": "", "profile": {"format": "en avion"}})
    errors = {tuple(e["loc"]): e for e in _french_json(response)["errors"]}
    assert errors[("body", "question")] == {
        "loc": ["body", "question"], "type": "string_too_short",
        "msg": "Texte trop court : au moins 1 caractère(s).",
    }
    assert errors[("body", "profile", "format")]["msg"] == "Valeur inconnue : valeurs possibles 'présentiel', 'distanciel' ou 'mixte'."
    missing = client.post("/api/ask", json={})
    assert missing.json()["errors"] == [{"loc": ["body", "question"], "msg": "Champ obligatoire.", "type": "missing"}]
    broken = client.post("/api/ask", content=b'{"question": ', headers=JSON)
    assert broken.status_code == 422 and broken.json()["errors"][0]["msg"] == "JSON invalide."


@pytest.mark.parametrize("body", [b'{"question": "\xff"}', b"[" * 100_000])
def test_an_unreadable_body_is_french(client, body):
    response = client.post("/api/ask", content=body, headers=JSON)
    assert response.status_code == 400
    assert _french_json(response)["detail"].startswith("Le corps de la requête est illisible")


def test_multipart_errors_are_french(client):
    response = client.post("/", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400
    assert _french_page(response).find(class_="error").get_text().startswith("Formulaire refusé")


def test_a_crash_is_a_french_page_with_the_headers(tmp_path, corpus_dir, embedder):
    with ready_client(corpus_dir, tmp_path / "data", embedder, raise_server_exceptions=False) as client:
        with sqlite3.connect(tmp_path / "data" / "orientia.sqlite3") as db:
            db.execute("DROP TABLE conversations")  # every answer now fails to be saved
        page = client.post("/", data={"question": QUESTION})
        assert page.status_code == 500
        soup = _french_page(page)
        assert soup.find(class_="error").get_text() == "Une erreur interne est survenue. Réessayez dans un instant."
        api = client.post("/api/ask", json={"question": QUESTION})
        assert api.status_code == 500
        assert _french_json(api)["detail"] == "Une erreur interne est survenue. Réessayez dans un instant."
        assert api.headers["cache-control"] == "no-store"


# -- Headers, hosts, assets ------------------------------------------------------------------------


def test_pages_and_answers_are_not_cached_static_files_are(client):
    assert client.get("/").headers["cache-control"] == "no-store"
    assert client.post("/", data={"question": QUESTION}).headers["cache-control"] == "no-store"
    assert client.post("/api/ask", json={"question": QUESTION}).headers["cache-control"] == "no-store"
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as stream:
        assert stream.headers["cache-control"] == "no-store"
    static = client.get("/static/style.css")
    assert static.status_code == 200 and static.headers["cache-control"] == "public, max-age=86400"


def test_csp_allows_the_pinned_htmx_file_only(client):
    from web.app import HTMX_CDN_URL, HTMX_SRI

    page = client.get("/")
    policy = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert policy["script-src"].split() == ["'self'", HTMX_CDN_URL]
    script = BeautifulSoup(page.text, "html.parser").find("script", src=HTMX_CDN_URL)
    assert script["integrity"] == HTMX_SRI


def test_asset_links_are_relative_whatever_the_host(client):
    page = client.get("/", headers={"Host": "localhost:8000"})
    soup = BeautifulSoup(page.text, "html.parser")
    links = [t["href"] for t in soup.find_all("link")] + [t["src"] for t in soup.find_all("script")]
    own = [link for link in links if "jsdelivr" not in link]
    assert own and all(link.startswith("/static/") for link in own), own


def test_unknown_hosts_are_refused_in_french(client):
    refused = client.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert _french_page(refused).find(class_="error").get_text() == "Nom d’hôte non autorisé."
    api = client.get("/api/roles", headers={"Host": "evil.example:8000"})
    assert api.status_code == 400 and _french_json(api)["detail"] == "Nom d’hôte non autorisé."
    assert client.get("/healthz", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "127.0.0.1"}).status_code == 200


def test_docs_are_self_hosted_and_allowed_by_their_csp(client):
    import base64
    import hashlib
    import re

    docs = client.get("/docs")
    assert docs.status_code == 200
    soup = BeautifulSoup(docs.text, "html.parser")
    sources = [s.get("src") for s in soup.find_all("script") if s.get("src")]
    assert sources == ["/static/swagger-ui/swagger-ui-bundle.js"]
    assert soup.find("link", rel="stylesheet")["href"] == "/static/swagger-ui/swagger-ui.css"
    assert "http" not in " ".join(sources), "nothing from a CDN"
    inline = [s.string for s in soup.find_all("script") if not s.get("src")]
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = docs.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[^']+'$", policy) and f"'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert client.get("/").headers["content-security-policy"].count("sha256") == 0
    for path in sources + ["/static/swagger-ui/swagger-ui.css"]:
        assert client.get(path).status_code == 200


# -- Health checks apart from the answers --------------------------------------------------------


def test_healthz_answers_when_every_worker_thread_is_busy(client):
    import anyio.to_thread

    # Take every thread of the default pool (the one sync routes use), as a flood of requests would.
    borrowers = [object() for _ in range(1000)]

    async def take_all() -> int:
        limiter = anyio.to_thread.current_default_thread_limiter()
        taken = 0
        for borrower in borrowers:
            try:
                limiter.acquire_on_behalf_of_nowait(borrower)
            except anyio.WouldBlock:
                break
            taken += 1
        return taken

    async def give_back(taken: int) -> None:
        limiter = anyio.to_thread.current_default_thread_limiter()
        for borrower in borrowers[:taken]:
            limiter.release_on_behalf_of(borrower)

    taken = client.portal.call(take_all)
    assert taken > 0
    result: dict = {}
    try:
        worker = threading.Thread(target=lambda: result.update(response=client.get("/healthz")), daemon=True)
        worker.start()
        worker.join(timeout=30)  # a deadlock guard, not a speed check
        answered_while_busy = not worker.is_alive()
    finally:
        client.portal.call(give_back, taken)
    worker.join(timeout=30)
    assert answered_while_busy, "/healthz waited for a worker thread"
    assert result["response"].status_code == 200


# -- Rate limit ------------------------------------------------------------------------------------


def test_questions_are_rate_limited_per_client(tmp_path, corpus_dir, embedder):
    with ready_client(corpus_dir, tmp_path / "data", embedder, rate_limit="3/minute") as client:
        for _ in range(2):
            assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200
        assert client.post("/", data={"question": QUESTION}).status_code == 200
        refused = client.post("/api/ask", json={"question": QUESTION})
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 60
        assert _french_json(refused)["detail"] == f"Trop de questions en peu de temps. Réessayez dans {wait} secondes."
        stream = client.post("/api/ask/stream", json={"question": QUESTION})
        assert stream.status_code == 429
        page = client.post("/", data={"question": QUESTION})
        assert page.status_code == 429 and page.headers["retry-after"]
        assert "Trop de questions" in _french_page(page).find(class_="error").get_text()
        # Reading is not limited, nor are health checks; logins are counted apart.
        assert client.get("/formations").status_code == 200
        assert client.get("/healthz").status_code == 200
        for _ in range(3):
            assert client.post("/admin/connexion", data={"jeton": "x"}).status_code != 429
        login = client.post("/admin/connexion", data={"jeton": "x"})
        assert login.status_code == 429 and "connexion" in _french_page(login).find(class_="error").get_text()
        # Another client has its own counter.
        other = client.post("/api/ask", json={"question": QUESTION}, headers={"X-Forwarded-For": "10.0.0.9"})
        assert other.status_code == 429, "a header a client sets does not give it a new counter"


def test_rate_limit_setting():
    from pydantic import ValidationError

    from assistant import Settings

    assert Settings(_env_file=None).rate_limit == "30/minute"
    assert Settings(_env_file=None, rate_limit="OFF").rate_limit == "off"
    assert Settings(_env_file=None, rate_limit="5/second;100/hour").rate_limit == "5/second;100/hour"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, rate_limit="beaucoup")


def test_trusted_hosts_setting():
    from assistant import Settings

    assert Settings(_env_file=None).trusted_hosts == ["127.0.0.1", "localhost", "[::1]"]
    assert Settings(_env_file=None, host="orientia.local").trusted_hosts[-1] == "orientia.local"
    assert Settings(_env_file=None, host="::1").trusted_hosts == ["127.0.0.1", "localhost", "[::1]"]
    assert Settings(_env_file=None, allowed_hosts="A.example.fr, *.example.org").trusted_hosts == ["a.example.fr", "*.example.org"]
