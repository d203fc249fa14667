"""Readiness: /readyz says 200 only once the first question would not wait for anything."""

from __future__ import annotations

import shutil
import threading
import time

from ..conftest import make_settings


def test_ready_only_after_the_warm_up(corpus_dir, tmp_path, embedder, monkeypatch):
    from fastapi.testclient import TestClient

    from assistant import Assistant, Index
    from web.app import create_app

    shutil.copytree(corpus_dir, tmp_path / "data")
    settings = make_settings(tmp_path / "data")
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    release = threading.Event()
    warmed = threading.Event()

    def slow_warm_up() -> None:  # the language pipeline, held until the test lets it load
        release.wait(60)
        warmed.set()

    monkeypatch.setattr(assistant, "answer_warm_up", slow_warm_up)
    with TestClient(create_app(settings, assistant=assistant)) as client:
        assert client.get("/healthz").status_code == 200  # alive at once
        waiting = client.get("/readyz")
        assert waiting.status_code == 503 and waiting.json()["index"] == "warming"
        release.set()
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "never ready after the warm-up"
            time.sleep(0.05)
        assert warmed.is_set()
    assistant.index.close()
