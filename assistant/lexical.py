"""French BM25 over the chunks: accents folded, elisions dropped, Snowball stemming.

``bm25s`` (sparse-matrix BM25) with ``PyStemmer`` is used instead of hand-written scoring: it is
fast (sub-millisecond queries here) and well kept. Codes such as ``RNCP37827`` or ``M1805`` stay
single tokens, so exact lookups work.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from .text import fold, plain

__all__ = ["LexicalIndex", "expand_query"]

_TOKEN = r"(?u)\b\w\w+\b"


@lru_cache(maxsize=1)
def _synonyms() -> list[tuple[re.Pattern, str]]:
    import yaml

    path = Path(__file__).parent / "templates" / "synonyms.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(re.compile(pattern), terms) for group in raw.values() for pattern, terms in group.items()]


def expand_query(query: str) -> str:
    """The query plus the French terms of ``templates/synonyms.yaml`` its wording calls for."""
    text = plain(query)
    extra = [terms for pattern, terms in _synonyms() if pattern.search(text)]
    return " ".join([query, *extra]) if extra else query


class LexicalIndex:
    """An in-memory BM25 index of texts, queried with optional allowed-row masks."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer
        from bm25s.stopwords import STOPWORDS_FRENCH

        # bm25s sets its logger to DEBUG when imported; its index-building messages are noise.
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = [fold(w) for w in STOPWORDS_FRENCH]
        self._bm25s = bm25s
        self.size = len(texts)
        self._retriever = bm25s.BM25()
        if texts:
            tokens = self._tokenize(list(texts))
            self._retriever.index(tokens, show_progress=False)

    def _tokenize(self, texts: list[str]):
        return self._bm25s.tokenize(
            [fold(t) for t in texts],
            token_pattern=_TOKEN,
            stopwords=self._stopwords,
            stemmer=self._stemmer.stemWords,
            show_progress=False,
        )

    def search(self, query: str, k: int, mask: Sequence[bool] | None = None) -> list[tuple[int, float]]:
        """Return up to ``k`` (row, score) pairs with a positive score, best first."""
        if not self.size:
            return []
        import numpy as np

        tokens = self._bm25s.tokenize(
            [fold(expand_query(query))],
            token_pattern=_TOKEN,
            stopwords=self._stopwords,
            stemmer=self._stemmer.stemWords,
            show_progress=False,
            return_ids=False,
        )
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens[0] if t in vocab]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        if mask is not None:
            scores = np.where(np.asarray(mask, dtype=bool), scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
