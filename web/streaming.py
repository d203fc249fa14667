"""NDJSON streaming of work done in a thread (an answer being written by an LLM)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable

import anyio
from fastapi.responses import StreamingResponse

__all__ = ["stream_ndjson"]

log = logging.getLogger(__name__)

Emit = Callable[[dict], None]


def stream_ndjson(
    work: Callable[[Emit], None], *, name: str, limiter: anyio.CapacityLimiter | None = None
) -> StreamingResponse:
    """Run ``work(emit)`` in a thread; each emitted dict becomes one JSON line of the response.

    Must be called from the event loop (inside an ``async`` route). An unexpected exception ends
    the stream with ``{"type": "error", ...}`` and is logged. With a ``limiter``, the work starts
    when the limiter has room (the answers' ``CapacityLimiter``: see ``web.limits``).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict | None] = asyncio.Queue()

    def emit(item: dict | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            work(emit)
        except Exception:  # noqa: BLE001 - reported to the client, traced in the log
            log.exception("Streaming work %s failed", name)
            emit({"type": "error", "detail": "Une erreur interne est survenue.", "status": 500})
        finally:
            emit(None)

    async def lines():
        async with limiter if limiter is not None else contextlib.nullcontext():
            threading.Thread(target=run, name=name, daemon=True).start()
            while (item := await queue.get()) is not None:
                yield json.dumps(item, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers={"Cache-Control": "no-store"})
