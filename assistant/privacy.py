"""Remove personal data from text before it is stored (minimal version: e-mails and phone numbers).

``scrub(text)`` replaces e-mail addresses with « [courriel] » and French or international phone
numbers with « [téléphone] ». It is deliberately small: names, postal addresses and other
identifiers are not detected here. The observatory work (issue 13) provides a fuller ``scrub`` with
the same signature and placeholders, which replaces this module.
"""

from __future__ import annotations

import re

__all__ = ["scrub"]

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# French numbers (0X XX XX XX XX, with spaces, dots or dashes) and +33 / 0033 / other +NN prefixes.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{2,3}[\s.-]?(?:\(0\)[\s.-]?)?\d|0\d)(?:[\s.-]?\d{2}){4}(?!\d)"
)


def scrub(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by French placeholders."""
    text = _EMAIL.sub("[courriel]", text)
    return _PHONE.sub("[téléphone]", text)
