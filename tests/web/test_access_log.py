"""A real ``orientia serve`` at INFO: the access log keeps no query text, nothing stored or logged
holds the personal data typed in questions, searches and feedback."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

from web.logs import PrivacyFilter

from ..e2e.conftest import running_server

SECRETS = ["clothilde.martin@example.fr", "06 11 22 33 44", "Clothilde", "Vandenbussche", "12 rue des Glycines"]


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_logs_and_files_hold_no_personal_data(corpus_dir, tmp_path):
    base = tmp_path / "serveur"
    base.mkdir()
    with running_server(corpus_dir, base, "http://127.0.0.1:9/htmx.min.js", ORIENTIA_LOG_LEVEL="INFO") as url:
        status, answer = _post(f"{url}/api/ask", {
            "question": "Je m'appelle Clothilde Vandenbussche, clothilde.martin@example.fr, 06 11 22 33 44, "
                        "12 rue des Glycines 80000 Amiens : quelles formations IA pour une comptable ?",
        })
        assert status == 200 and answer["answered"]
        query = urllib.parse.urlencode({"q": "clothilde.martin@example.fr Clothilde Vandenbussche"})
        with urllib.request.urlopen(f"{url}/formations?{query}", timeout=60) as response:
            assert response.status == 200
        status, receipt = _post(f"{url}/api/feedback", {
            "conversation_id": answer["conversation_id"], "useful": False, "reason": "Autre",
            "comment": "Rappelez-moi au 06 11 22 33 44. Signé : Clothilde",
        })
        assert (status, receipt) == (201, {"status": "enregistré"})
    log = (base / "server.log").read_text(encoding="utf-8", errors="replace")
    assert '"GET /formations HTTP/1.1" 200' in log, "the access line is there, without its query"
    assert '"POST /api/ask HTTP/1.1" 200' in log
    assert "q=" not in log and "%40" not in log
    assert "127.0.0.x" in log, "client addresses lose their last part"
    for secret in SECRETS:
        assert secret not in log, secret
    for path in (base / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, (secret, path)


def test_privacy_filter_on_uvicorn_access_records(caplog):
    """The access record as uvicorn builds it: (client, method, target, version, status)."""
    logger = logging.getLogger("uvicorn.access")
    record = logger.makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.57:51234", "GET", "/formations?q=jean.dupont%40example.fr&department=62", "1.1", 200), None,
    )
    assert PrivacyFilter().filter(record)
    assert record.getMessage() == '203.0.113.x:51234 - "GET /formations HTTP/1.1" 200'


def test_privacy_filter_scrubs_other_records():
    record = logging.getLogger("assistant.service").makeRecord(
        "assistant.service", logging.WARNING, __file__, 1, "Question from %s (%s)",
        ("jean.dupont@example.fr", "06 12 34 56 78"), None,
    )
    PrivacyFilter().filter(record)
    assert record.getMessage() == "Question from [courriel] ([téléphone])"
