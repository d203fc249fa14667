"""How ``orientia serve`` runs uvicorn: timeouts for slow or silent clients, bounded headers.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits forever for a client
that opens a connection and sends its headers slowly or not at all. ``HeaderTimeoutProtocol``
(uvicorn's h11 protocol) closes such a connection after ``client_timeout_seconds``; the body has
its own deadline in ``web.limits.BodyLimit``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeaderTimeoutProtocol", "uvicorn_options", "MAX_HEADER_BYTES", "KEEP_ALIVE_SECONDS"]

#: Request line and headers larger than this are refused by h11 (uvicorn answers 400).
MAX_HEADER_BYTES = 16 * 1024
#: Seconds an idle keep-alive connection is kept.
KEEP_ALIVE_SECONDS = 5


class HeaderTimeoutProtocol(H11Protocol):
    """h11 protocol that closes a connection whose request headers are not in after a deadline."""

    header_timeout: float = 20.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        # Still waiting for (the rest of) a request line and headers: give up on this client.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("Closed a connection that did not send its request headers in time")
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` for ``settings`` (logging included)."""
    from .logs import logging_config

    protocol = type("OrientiaH11Protocol", (HeaderTimeoutProtocol,), {"header_timeout": settings.client_timeout_seconds})
    return {
        "host": settings.host,
        "port": settings.port,
        "http": protocol,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "log_config": logging_config(settings.log_level),
        "log_level": settings.log_level.lower(),
        # X-Forwarded-For is trusted from 127.0.0.1 only (uvicorn's default): behind a local
        # reverse proxy the rate limit counts real clients, and nobody else can pick an address.
        "server_header": False,
    }
