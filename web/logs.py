"""Logging of the CLI and the server: user text never reaches a log line raw.

``EscapeControl`` escapes newlines and other control characters in every logged value (a newline
in a question or a path cannot forge a log line); ``PathOnly`` drops query strings from uvicorn's
access log (they may hold what a user typed). ``logging_config`` wires both into one
``dictConfig`` used by ``orientia serve`` (through uvicorn) and by the other commands.
"""

from __future__ import annotations

import logging
import numbers
import re
from typing import Any

__all__ = ["EscapeControl", "PathOnly", "escape", "logging_config", "configure"]

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
        if isinstance(record.args, tuple) and len(record.args) == 5 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
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
