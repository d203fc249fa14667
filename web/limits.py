"""Limits on what one client can ask of the server: body size, time to send it, request rate,
and how many answers are computed at once.

All are pure ASGI middlewares (nothing buffers a response) answering in French through
``web.errors.error_response``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "RateLimit", "RATE_LIMITED", "run_answering", "too_large_message"]

T = TypeVar("T")

#: (method, path) of the requests that cost an answer or guard a secret: rate limited per client.
RATE_LIMITED: dict[tuple[str, str], str] = {
    ("POST", "/api/ask"): "questions",
    ("POST", "/api/ask/stream"): "questions",
    ("POST", "/"): "questions",
    ("POST", "/admin/connexion"): "connexion",
}


def too_large_message(limit: int) -> str:
    if limit >= 1024 * 1024:
        size = f"{limit / (1024 * 1024):g} Mo".replace(".", ",")
    else:
        size = f"{math.ceil(limit / 1024)} Ko"
    return f"La requête est trop volumineuse (au plus {size})."


_TIMEOUT_MESSAGE = "La requête a mis trop de temps à arriver. Réessayez."


async def _respond(scope: Scope, receive: Receive, send: Send, message: str, status: int, headers=None) -> None:
    from .errors import error_response

    await error_response(Request(scope, receive), message, status, headers=headers)(scope, receive, send)


class BodyLimit:
    """Refuse bodies larger than a limit (413) or sent too slowly (408), before reading them whole.

    A ``Content-Length`` above the limit is refused at once; otherwise the bytes are counted as
    they arrive. Paths starting with a prefix of ``larger`` (admin uploads) get that limit instead.

    Args:
        app: the application.
        limit: the default limit in bytes.
        larger: path prefix -> limit in bytes.
        timeout: seconds a client may take to send the whole body.
    """

    def __init__(self, app: ASGIApp, *, limit: int, larger: dict[str, int] | None = None, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})
        self.timeout = timeout

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                await _respond(scope, receive, send, "En-tête Content-Length invalide.", 400)
                return
            if too_large:
                await _respond(scope, receive, send, too_large_message(limit), 413, {"Connection": "close"})
                return

        received = 0
        complete = False
        deadline = time.monotonic() + self.timeout
        started = False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # the body is in: later calls wait for a disconnect, without deadline
                return await receive()
            try:
                with anyio.fail_after(max(deadline - time.monotonic(), 0.0)):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, _TIMEOUT_MESSAGE, headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large_message(limit), headers={"Connection": "close"})
                complete = not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except HTTPException as exc:
            # Raised while reading the body outside a route (a streamed body, a middleware).
            if started or exc.status_code not in (408, 413):
                raise
            await _respond(scope, receive, send, str(exc.detail), exc.status_code, exc.headers)


class RateLimit:
    """Per-client rate limit on the requests of ``RATE_LIMITED``, with the ``limits`` library.

    Counters are kept by client address and group (asking questions and logging in are counted
    apart), in the app's database (``web.limit_storage.DatabaseStorage``): every process serving
    the same database counts together. Above the limit: 429 with ``Retry-After``.

    Args:
        app: the application.
        rate: one or more rates in the ``limits`` syntax, e.g. ``30/minute`` or ``5/second;100/hour``.
        rules: (method, path) -> group (``RATE_LIMITED`` by default).
        storage: a ``limits`` storage with moving-window support; by default the database of the
            app's store, once its lifespan has opened it (in-process counters before that).
    """

    def __init__(self, app: ASGIApp, *, rate: str, rules: dict[tuple[str, str], str] | None = None, storage: Any = None) -> None:
        from limits import parse_many

        self.app = app
        self.items = parse_many(rate)
        self.rules = dict(RATE_LIMITED if rules is None else rules)
        self._storage = storage
        self._limiter: Any = None
        self._memory: Any = None

    def limiter(self, scope: Scope) -> Any:
        """The moving-window limiter over the shared storage (built at the first request)."""
        if self._limiter is not None:
            return self._limiter
        from limits.strategies import MovingWindowRateLimiter

        storage = self._storage
        if storage is None:
            state = getattr(scope.get("app"), "state", None)
            assistant = getattr(state, "assistant", None)
            if assistant is None:  # no lifespan ran (a bare ASGI test app): count in the process
                from limits.storage import MemoryStorage

                if self._memory is None:
                    self._memory = MovingWindowRateLimiter(MemoryStorage())
                return self._memory
            from .limit_storage import DatabaseStorage

            storage = DatabaseStorage(assistant.index.store.engine)
        self._limiter = MovingWindowRateLimiter(storage)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = self.rules.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if group is None:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("inconnu", 0))[0]
        limiter = self.limiter(scope)
        # The counters are in the database: count off the event loop, which keeps serving.
        wait = await anyio.to_thread.run_sync(self._check, limiter, group, client)
        if wait is None:
            await self.app(scope, receive, send)
            return
        what = "tentatives de connexion" if group == "connexion" else "questions"
        message = f"Trop de {what} en peu de temps. Réessayez dans {wait} seconde{'s' if wait > 1 else ''}."
        await _respond(scope, receive, send, message, 429, {"Retry-After": str(wait)})

    def _check(self, limiter: Any, group: str, client: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait."""
        refused = [item for item in self.items if not limiter.hit(item, group, client)]
        if not refused:
            return None
        now = time.time()
        return max(
            max(1, math.ceil(limiter.get_window_stats(item, group, client).reset_time - now))
            for item in refused
        )


async def run_answering(request: Request, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``function`` in a worker thread, at most ``answer_workers`` at once.

    Answers have their own ``CapacityLimiter``: they never take the threads that serve the other
    routes, and ``/healthz`` (on the event loop) never waits behind them.
    """
    limiter: anyio.CapacityLimiter = request.app.state.answer_limiter
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs), limiter=limiter)
