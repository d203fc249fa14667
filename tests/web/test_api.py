"""The JSON API contract of DESIGN.md, over a real app (lifespan, SQLite, embedded Chroma)."""

from __future__ import annotations

import csv

import pytest

from ..conftest import KNOWLEDGE, ready_client


@pytest.fixture(scope="module")
def client(tmp_path_factory, corpus_dir, embedder):
    """One app over a private copy of the ingested corpus, with its lifespan running."""
    with ready_client(corpus_dir, tmp_path_factory.mktemp("api") / "data", embedder) as client:
        yield client


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok", "index": "", "done": 0, "total": 0}
    assert client.get("/readyz").json()["status"] == "ready"


def test_ask_contract(client):
    response = client.post("/api/ask", json={"question": "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"conversation_id", "answered", "answer", "profile", "citations", "trainings", "certifications"}
    assert body["answered"] is True and isinstance(body["answer"], str) and body["answer"]
    assert body["profile"]["department"] == "62" and body["profile"]["role"] == "M1203"
    assert body["citations"], "an answer cites its sources"
    for citation in body["citations"]:
        assert set(citation) >= {"id", "kind", "title", "source", "excerpt"}
        assert citation["kind"] in {"study", "certification", "training", "role", "document", "orientia"}
        assert client.get(f"/api/sources/{citation['id']}").status_code == 200
    assert 1 <= len(body["trainings"]) <= 5
    for training in body["trainings"]:
        assert set(training) >= {
            "id", "title", "provider", "city", "department", "format", "duration_hours",
            "price_eur", "funding", "certification_code", "url", "why",
        }
        assert training["format"] in {"présentiel", "distanciel", "mixte"}
        assert isinstance(training["duration_hours"], (int, float)) and isinstance(training["funding"], list)
        assert training["why"]


def test_ask_out_of_scope(client):
    body = client.post("/api/ask", json={"question": "Donne-moi la recette de la carbonade flamande."}).json()
    assert body["answered"] is False
    assert body["trainings"] == [] and body["citations"] == []
    assert "Proch'Emploi" in body["answer"]


def test_ask_profile_override_and_conversation(client):
    first = client.post("/api/ask", json={"question": "Quelles formations IA pour un comptable ?", "profile": {"format": "distanciel"}}).json()
    assert first["profile"]["format"] == "distanciel"
    assert all(t["format"] == "distanciel" for t in first["trainings"])
    follow = client.post("/api/ask", json={"question": "et moins de 500 € ?", "conversation_id": first["conversation_id"]}).json()
    assert follow["conversation_id"] == first["conversation_id"]
    assert follow["profile"]["role"] == "M1203" and follow["profile"]["max_price"] == 500
    assert all(t["price_eur"] <= 500 for t in follow["trainings"])


def test_a_conversation_id_the_client_chose_starts_a_new_conversation(client):
    """Only server-issued ids continue a conversation: a chosen or guessed one gets a new id."""
    first = client.post("/api/ask", json={"question": "Je suis comptable à Arras, quelles formations ?"}).json()
    issued = first["conversation_id"]
    assert len(issued) >= 32
    for chosen in ("admin", "a", "00000000000000000000000000000000"):
        body = client.post("/api/ask", json={"question": "et à distance ?", "conversation_id": chosen}).json()
        assert body["conversation_id"] not in (chosen, issued)
        assert body["profile"]["role"] is None  # nobody's profile comes back
    again = client.post("/api/ask", json={"question": "et à distance ?", "conversation_id": issued}).json()
    assert again["conversation_id"] == issued and again["profile"]["role"] == "M1203"



@pytest.mark.parametrize(
    "payload",
    [{}, {"question": ""}, {"question": "x" * 1001}, {"question": "ok", "profile": {"department": "75"}},
     {"question": "ok", "profile": {"format": "en avion"}}, {"question": "ok", "conversation_id": "../etc"}],
)
def test_ask_invalid_payload_is_422(client, payload):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Paramètres invalides")


def test_trainings_list_and_filters(client):
    everything = client.get("/api/trainings", params={"limit": 200}).json()
    assert everything["total"] == len(everything["items"]) >= 80

    page = client.get("/api/trainings", params={"limit": 5, "offset": 5}).json()
    assert page["total"] == everything["total"] and len(page["items"]) == 5
    assert [t["id"] for t in page["items"]] == [t["id"] for t in everything["items"][5:10]]

    params = {"department": "80", "format": "présentiel", "max_hours": 35, "max_price": 2000, "limit": 200}
    body = client.get("/api/trainings", params=params).json()
    assert body["total"] > 0
    for t in body["items"]:
        assert t["department"] == "80" and t["format"] == "présentiel"
        assert t["duration_hours"] <= 35 and t["price_eur"] <= 2000

    # The bundled examples prepare no real certification, so none is CPF-funded.
    cpf = client.get("/api/trainings", params={"funding": "cpf", "certifying": True, "limit": 200}).json()
    assert cpf == {"total": 0, "items": []}
    free = client.get("/api/trainings", params={"max_price": 0, "limit": 200}).json()
    assert {"F087", "F088"} <= {t["id"] for t in free["items"]}
    assert all(t["url"] for t in free["items"] if t["id"] in ("F087", "F088"))

    role = client.get("/api/trainings", params={"role": "M1203", "limit": 200}).json()
    assert role["total"] > 0

    search = client.get("/api/trainings", params={"q": "Python données", "limit": 5}).json()
    assert search["items"] and any("Python" in t["title"] for t in search["items"][:3])


@pytest.mark.parametrize(
    "params",
    [{"department": "75"}, {"format": "avion"}, {"max_hours": -1}, {"max_price": "cher"},
     {"funding": "loto"}, {"limit": 0}, {"limit": 1000}, {"offset": -1}, {"certifying": "peut-être"}],
)
def test_trainings_invalid_parameters_are_422(client, params):
    assert client.get("/api/trainings", params=params).status_code == 422


def test_detail_endpoints_and_404(client):
    training = client.get("/api/trainings/F001").json()
    assert training["id"] == "F001" and "illustrative" in training
    cert = client.get("/api/certifications/RNCP37827").json()
    assert [b["code"] for b in cert["blocs"]] == ["RNCP37827BC01", "RNCP37827BC02", "RNCP37827BC03"]
    assert all({"code", "title", "skills"} <= set(b) for b in cert["blocs"])
    certs = client.get("/api/certifications").json()
    assert certs["total"] >= 10
    roles = client.get("/api/roles").json()
    assert {"id", "label", "rome_code", "ai_exposure"} <= set(roles["items"][0])
    # Every job sheet of the bundled ROME 4.0 referential, paged.
    with (KNOWLEDGE / "referentials" / "rome4-v460" / "unix_referentiel_code_rome_v460_utf8.csv").open(encoding="utf-8") as handle:
        sheets = list(csv.DictReader(handle))
    assert roles["total"] == len(sheets) == 1584
    last = client.get("/api/roles", params={"limit": 100, "offset": 1500}).json()
    assert len(last["items"]) == 84
    for url in ("/api/trainings/F999", "/api/certifications/RNCP00000", "/api/sources/study:nope:1", "/api/roles/astronaute", "/api/nothing"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert isinstance(response.json()["detail"], str)


def test_feedback(client):
    conversation = client.post("/api/ask", json={"question": "Quelles formations en IA pour un comptable ?"}).json()["conversation_id"]
    response = client.post("/api/feedback", json={"conversation_id": conversation, "helpful": True, "comment": "Merci"})
    assert response.status_code == 201 and response.json() == {"status": "enregistré"}
    assert client.post("/api/feedback", json={"conversation_id": "inconnue", "useful": True}).status_code == 404
    assert client.post("/api/feedback", json={"helpful": True, "comment": "sans conversation"}).status_code == 422
    assert client.post("/api/feedback", json={"conversation_id": conversation, "comment": "sans avis"}).status_code == 422


def test_openapi_lists_the_contract(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/ask", "/api/trainings", "/api/trainings/{training_id}", "/api/certifications",
                 "/api/certifications/{code}", "/api/roles", "/api/sources/{source_id}", "/api/feedback",
                 "/api/admin/observatory"):
        assert path in paths
