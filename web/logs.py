"""Logs without raw user text or personal data.

``EscapeControl`` escapes newlines and other control characters in every logged value (a newline
in a question or a path cannot forge a log line); ``PathOnly`` drops query strings from uvicorn's
access log. ``logging_config`` wires both into one ``dictConfig`` used by ``orientia serve``
(through uvicorn) and by the other commands.

``PrivacyFilter`` (installed by the app's lifespan on every handler) goes further: a search typed
in the catalogue (``/formations?q=...``) or any other query string can carry an e-mail address or a
name: the access log keeps the path only, and the client address loses its last part
(``203.0.113.x``). Every other log line goes through ``assistant.privacy.scrub``.
"""

from __future__ import annotations

import logging
import numbers
import re
from typing import Any
from urllib.parse import urlsplit

from assistant.privacy import scrub

__all__ = [
    "EscapeControl", "PathOnly", "PrivacyFilter", "configure", "escape", "install_log_privacy",
    "logging_config", "strip_query",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``...)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"), text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, numbers.Number) or value is None:
        return value
    # Exceptions, paths, any object: replaced by its escaped text only when that text needs it
    # (so that "%d" or "%r" still get the object they expect otherwise).
    text = str(value)
    return escape(text) if _CONTROL.search(text) else value


class EscapeControl(logging.Filter):
    """Escape control characters in the message and its arguments (tracebacks stay multi-line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_clean(v) for v in record.args)
        return True


class PathOnly(logging.Filter):
    """uvicorn's access log with the path only: ``GET /formations`` instead of ``GET /formations?q=...``."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, http version, status).
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, target, version, status = record.args
            if isinstance(target, str):
                record.args = (client, method, target.split("?", 1)[0], version, status)
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """One ``logging.config.dictConfig`` for Orientia and uvicorn."""
    filters = {"escape": {"()": EscapeControl}, "path_only": {"()": PathOnly}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": filters,
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {"format": "%(asctime)s %(levelname)s access: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler", "formatter": "default", "filters": ["escape"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                # path_only first: it reads uvicorn's arguments before they are escaped
                "class": "logging.StreamHandler", "formatter": "access", "filters": ["path_only", "escape"],
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            **{name: {"level": "WARNING"} for name in ("httpx", "chromadb", "bm25s", "urllib3")},
        },
    }


def configure(level: str = "INFO") -> None:
    """Apply ``logging_config`` (the commands other than ``serve``, which hands it to uvicorn)."""
    import logging.config

    logging.config.dictConfig(logging_config(level))


ACCESS_LOGGER = "uvicorn.access"
_IPV4 = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}")
_IPV6 = re.compile(r"^\[?([0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){0,2})[0-9a-fA-F:]*\]?")


def strip_query(target: str) -> str:
    """``/formations?q=x`` -> ``/formations`` (the path itself scrubbed as well)."""
    return scrub(urlsplit(target).path or "/")


def _mask_client(client: str) -> str:
    host, sep, port = client.rpartition(":") if client.count(":") == 1 else (client, "", "")
    if _IPV4.match(host):
        return _IPV4.sub(r"\1.x", host) + sep + port
    if ":" in client:
        return _IPV6.sub(r"\1:x", client.split("]")[0].lstrip("["))
    return client


class PrivacyFilter(logging.Filter):
    """Rewrites records in place: uvicorn access lines keep method, path and status only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_orientia_scrubbed", False):
            return True
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, target, version, status = record.args
            record.args = (_mask_client(str(client)), method, strip_query(str(target)), version, status)
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record is left to the formatter
                return True
            record.msg, record.args = scrub(message), None
        record._orientia_scrubbed = True
        return True


def install_log_privacy() -> None:
    """Attach the filter to uvicorn's access logger and to every handler in place (idempotent)."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", ACCESS_LOGGER))]
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PrivacyFilter) for f in access.filters):
        access.addFilter(PrivacyFilter())
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
                handler.addFilter(PrivacyFilter())
