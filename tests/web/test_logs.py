"""The log filters: control characters escaped in every value, query strings dropped."""

from __future__ import annotations

import io
import logging

from web.logs import EscapeControl, PathOnly


def _logger(*filters) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for f in filters:
        handler.addFilter(f)
    logger = logging.getLogger(f"test-logs-{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, out


def test_control_characters_are_escaped_in_message_and_arguments():
    logger, out = _logger(EscapeControl())
    logger.info("Question: %s (%d mots, %r)", "bonjour\nINFO faux\r\x1b[31m", 3, ValueError("a\nb"))
    logger.info("Direct: ligne\u2028suite")
    lines = out.getvalue().splitlines()
    assert lines == [
        "INFO Question: bonjour\\nINFO faux\\r\\x1b[31m (3 mots, 'a\\\\nb')",
        "INFO Direct: ligne\\u2028suite",
    ]


def test_numbers_and_plain_objects_keep_their_format():
    from pathlib import Path

    import numpy as np

    logger, out = _logger(EscapeControl())
    logger.info("%d passages en %.1f s dans %s", np.int64(12), np.float64(1.25), Path("/tmp/x"))
    assert out.getvalue() == "INFO 12 passages en 1.2 s dans /tmp/x\n"


def test_access_log_keeps_the_path_only():
    logger, out = _logger(PathOnly(), EscapeControl())
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/formations?q=secret\nfaux", "1.1", 200)
    assert out.getvalue() == 'INFO 127.0.0.1:5000 - "GET /formations HTTP/1.1" 200\n'
