"""French text normalisation shared by the lexical index and the profile extractor."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "ELISION"]

ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, strip accents, expand ligatures and drop French elisions (``l'IA`` -> ``ia``)."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("’", "'")
    text = ELISION.sub(" ", text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
