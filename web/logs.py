"""Logs without personal data: access lines lose their query string, every line is scrubbed.

A search typed in the catalogue (``/formations?q=...``) or any other query string can carry an
e-mail address or a name: the access log keeps the path only, and the client address loses its
last part (``203.0.113.x``). Every other log line goes through ``assistant.privacy.scrub``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from assistant.privacy import scrub

__all__ = ["PrivacyFilter", "install_log_privacy", "strip_query"]

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
