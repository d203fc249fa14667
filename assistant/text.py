"""French text normalisation shared by the lexical index and the profile extractor."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "plain", "ELISION", "de_job"]

ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case, strip accents, expand ligatures and drop French elisions (``l'IA`` -> ``ia``)."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("’", "'")
    text = ELISION.sub(" ", text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def plain(text: str) -> str:
    """Folded text with everything but letters and digits as spaces (for word-level patterns)."""
    return re.sub(r"[^a-z0-9]+", " ", fold(text))


def de_job(label: str) -> str:
    """``de`` + a job label in running text: « de comptable », « d'assistante de direction »."""
    text = label[:1].lower() + label[1:] if label[1:2].islower() else label
    return f"d'{text}" if fold(text[:1]) in "aeiouyh" else f"de {text}"
