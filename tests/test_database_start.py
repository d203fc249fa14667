"""The database unavailable at start: the commands retry, then stop with a French message naming
the host (never the password), for real, on a closed port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

SECRET = "mot-de-passe-a-ne-pas-afficher"


def _environment(tmp_path) -> tuple[dict[str, str], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env.update(
        ORIENTIA_DATA_DIR=str(tmp_path / "data"),
        ORIENTIA_DATABASE_URL=f"postgresql+psycopg://orientia:{SECRET}@127.0.0.1:{port}/orientia",
        ORIENTIA_DATABASE_CONNECT_SECONDS="1",
        ORIENTIA_PORT=str(port + 1 if port < 65535 else port - 1),
    )
    return env, port


@pytest.mark.parametrize(("command", "code"), [(["admin", "create-token"], 1), (["serve"], 3)])
def test_commands_stop_with_a_french_message_naming_the_host(tmp_path, command, code):
    """``code``: 1 from the CLI, 3 from uvicorn when the app's startup fails."""
    env, port = _environment(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "web", *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "nouvel essai dans" in output, "it retried before giving up"
    assert f"Base de données injoignable : 127.0.0.1:{port} (base « orientia ») après 1 s d'attente" in output, output
    assert SECRET not in output
    if command[0] == "admin":
        assert "Traceback" not in output, output
