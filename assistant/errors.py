"""The core's exception: a French message for users, an HTTP status for the web layer."""

from __future__ import annotations

__all__ = ["OrientiaError", "NotFound", "BadRequest", "NotReady"]


class OrientiaError(Exception):
    """An error a user may see: ``message`` is French, ``log_message`` English."""

    status_code = 400

    def __init__(self, message: str, *, log_message: str | None = None) -> None:
        super().__init__(log_message or message)
        self.message = message


class NotFound(OrientiaError):
    status_code = 404


class BadRequest(OrientiaError):
    status_code = 422


class NotReady(OrientiaError):
    status_code = 503
