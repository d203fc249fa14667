"""First-start ingest of the bundled knowledge, in a background thread so /healthz answers."""

from __future__ import annotations

import logging
import threading
import time

from assistant import Assistant

__all__ = ["Bootstrap"]

log = logging.getLogger(__name__)


class Bootstrap:
    """Ingests the bundled knowledge when the index is empty; tracks progress."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.state = "idle"  # idle | ingesting | ready | failed
        self.done = 0
        self.total = 0
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        removed = self.assistant.purge_expired()
        if any(removed.values()):
            log.info(
                "Removed %d expired conversation(s), %d observatory record(s), %d feedback(s)",
                removed["conversations"], removed["records"], removed["feedback"],
            )
        if not self.assistant.index.is_empty():
            # Load the index and the language pipeline before saying ready: the first question
            # would otherwise wait for them (seconds, tens of seconds on a busy machine).
            self.state = "warming"
            threading.Thread(target=self._warm_then_ready, name="orientia-warm", daemon=True).start()
            return
        self.state = "ingesting"
        self._thread = threading.Thread(target=self._run, name="orientia-bootstrap", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _warm_then_ready(self) -> None:
        self._warm()
        self.state = "ready"

    def _warm(self) -> None:
        try:
            self.assistant.knowledge()
            self.assistant.retriever.embed("préchauffage")
            # The French language pipeline takes seconds to load: not on the first question.
            self.assistant.answer_warm_up()
        except Exception:  # noqa: BLE001 - warming is best effort
            log.exception("Warm-up failed")

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if total and (done == total or done % 32 == 0):
            log.info("First start: embedded %d/%d passages", done, total)

    def _run(self) -> None:
        from ingest import IngestError, ingest

        settings = self.assistant.settings
        started = time.perf_counter()
        log.info("First start: ingesting the bundled knowledge from %s", settings.bundled_knowledge)
        index = self.assistant.index
        try:
            # Several processes may start on an empty database together: one ingests, the others
            # wait for its write to end and find the index built.
            with index.writing():
                if not index.is_empty():
                    log.info("First start: another process built the index meanwhile")
                    self._warm()
                    self.state = "ready"
                    return
                report = ingest([settings.bundled_knowledge], index, progress=self._progress)
        except IngestError as exc:
            self.state, self.error = "failed", f"{len(exc.problems)} problem(s) in the bundled knowledge"
            log.error("First-start ingest failed: %s", self.error)
            return
        except Exception as exc:  # noqa: BLE001 - reported on /readyz
            self.state, self.error = "failed", type(exc).__name__
            log.exception("First-start ingest failed")
            return
        self._warm()
        self.state = "ready"
        log.info(
            "First start: index ready (%d passages) in %.1f s",
            report.chunks, time.perf_counter() - started,
        )
