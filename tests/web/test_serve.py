"""``orientia serve`` as run in production: its logs and its timeouts, over real sockets."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ..conftest import stop_process

CLIENT_TIMEOUT = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(corpus_dir, tmp_path_factory):
    """A real server (INFO logs, a short client timeout); its port and its log file."""
    base = tmp_path_factory.mktemp("serve")
    shutil.copytree(corpus_dir, base / "data")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env.update(
        ORIENTIA_DATA_DIR=str(base / "data"), ORIENTIA_LOG_LEVEL="INFO", ORIENTIA_RATE_LIMIT="off",
        ORIENTIA_CLIENT_TIMEOUT_SECONDS=str(CLIENT_TIMEOUT), HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
    )
    log_path = base / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--port", str(port)],
            cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.3)
        yield port, log_path
    finally:
        stop_process(process)


def _get(port: int, target: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def _log_after(log_path: Path, marker: int, needle: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_bytes()[marker:].decode("utf-8", errors="replace")
        if needle in text:
            return text
        time.sleep(0.2)
    return log_path.read_bytes()[marker:].decode("utf-8", errors="replace")


def test_logs_escape_user_text_and_drop_query_strings(served):
    port, log_path = served
    marker = log_path.stat().st_size
    assert _get(port, "/formations?q=motdepasse-secret%0A2026-01-01%20INFO%20forged") == 200
    assert _get(port, "/api/roles/inconnu%0AFORGED%20LINE") == 404
    assert _get(port, "/metiers/x%0D%0AFORGED2") == 404
    text = _log_after(log_path, marker, "FORGED2")
    assert "GET /formations HTTP/1.1" in text, text
    assert "motdepasse-secret" not in text, "the query string is not logged"
    assert "inconnu\\nforged line" in text.lower(), text  # the job id may be upper-cased
    assert "x\\r\\nforged2" in text.lower(), text
    for line in text.splitlines():
        assert not line.startswith(("FORGED", "2026-01-01 INFO forged")), line


def test_a_client_that_never_sends_its_headers_is_disconnected(served):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT * 10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        started = time.monotonic()
        assert s.recv(1024) == b"", "the server closes the connection"
        assert time.monotonic() - started < CLIENT_TIMEOUT * 10


def test_a_client_that_sends_its_body_too_slowly_gets_a_french_408(served):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT * 10) as s:
        s.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"question\": "
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"408"
    assert b"content-security-policy" in head.lower()
    assert json.loads(body)["detail"] == "La requête a mis trop de temps à arriver. Réessayez."


def test_oversized_headers_are_refused(served):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for _ in range(10):  # headers arriving piece by piece, never ending
                s.sendall(b"X-Big: " + b"a" * 4000 + b"\r\n")
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end
        data = s.recv(65536)
    assert data.split(b" ", 2)[1] == b"400"
