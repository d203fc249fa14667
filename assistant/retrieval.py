"""Hybrid retrieval: multilingual dense search in Chroma + French BM25, fused by reciprocal rank.

Kind-aware: the question's intent weights study, certification, training, role and guide
passages; structured filters go into the Chroma ``where`` clause and the BM25 mask alike.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .index import Index, KnowledgeBase
from .models import Chunk
from .text import plain

__all__ = ["Hit", "Retriever", "Timings", "detect_focus", "detect_intents", "RRF_K"]

#: the usual reciprocal-rank-fusion constant (Cormack et al., 2009)
RRF_K = 60

# Words naming trainings, and words about learning: "que dois-je apprendre" asks for the job's
# skills first, so learning words count as a training intent but never as a request for trainings.
_TRAINING_TERMS = (
    r"formations?|former|se former|me former|cours|stages?|mooc|modules?|trainings?|courses|"
    r"an? (online |ai )?course|online course|programs?|programmes? de formation|bootcamps?|ateliers?|"
    r"sessions?|lesquelles|laquelle"
)
_LEARNING_TERMS = r"apprendre|learn|upskill|monter en competences?"

_INTENTS = {
    "training": rf"\b({_TRAINING_TERMS}|{_LEARNING_TERMS})\b",
    "certification": r"\b(certifications?|certifs?|certificats?|certifiante?s?|diplomes?|diplomante?s?|rncp\d*|rs\d{4}|blocs?|titres? (pro\w*|officiels?|reconnus?)|qualifications?|vae|certified)\b",
    "funding": r"\b(financ\w*|cpf|opco|payer|paye|prise en charge|pris en charge|rembours\w*|cout|combien(?! (de )?(temps|heures?|jours?|semaines?|mois|ans|annees|emplois?|metiers?|postes?|personnes?|salaries?|entreprises?|secteurs?|gens|eleves?|formations?|certifications?|blocs?|modules?|sessions?|places?)\b)|vae|transitions? pro|fne|pro a|reconversion|fund\w*|pay for|chomage|france travail|pass formation|aides?|plan de (formation|developpement)|temps de travail|heures de travail|imposer|obligatoire|(mon|notre|son) employeur|conge|droits?|faire reconna\w+ (mon|mes|son|ses|ma|sa) (experience|annees|acquis|pratique|savoir faire|competences))\b",
    "impact": r"\b(change\w*|impact\w*|expos\w*|avenir|menace\w*|remplac\w*|disparai\w*|concern\w*|transform\w*|risques?|automatis\w*|emplois?|affect\w*|future|replace\w*|jobs?|metiers?|chamboul\w*|supprim\w*|recrut\w*)\b",
    "definition": r"\b((c )?est quoi|qu est ce (que|qu)|definition|definir|explique|what is|what are|comment ca marche)\b",
    "study": r"\b(etude|chiffres?|statistiques?|combien (de )?(emplois|metiers|postes)|scenarios?|2030|2019|edec|erdyn|katalyse|observatoire|cite de (l )?ia|barometre)\b",
}

# What the question mainly asks for, when it asks for one thing: the answer leads with it.
# An explicit request (a question about trainings, certifications or funding) wins over a word
# that only mentions one ("avec mon CPF", "formation" in a job title).
_TRAINING_WORDS = r"(formations?|cours|stages?|mooc|modules?|programmes?|ateliers?|parcours)"
_ASKS = {
    "training": (
        rf"\b(quel(le)?s? (\w+ )?{_TRAINING_WORDS}|(cherche|recherche|trouver|conseillez|conseiller|recommandez|"
        rf"recommander|proposez|existe t il|existe t elle|y a t il|il y a) (\w+ ){{0,3}}{_TRAINING_WORDS}|"
        r"(voudrais|veux|souhaite|souhaiterais|aimerais|envie d|besoin d) (\w+ )?(apprendre|me former|suivre|faire)|"
        r"which (training|course)s?|(trainings?|courses|programs?|bootcamps?) (for|in|near|online|under|to)|lesquelles|laquelle)\b"
    ),
    "certification": r"\b(certifications?|certifs?|certificats?|diplomes?|titres? (pro\w*|officiels?|reconnus?)|blocs?|rncp\d*|rs\d{4})\b",
    "funding": r"\b(comment (le |la |les |l |me |se |nous |vous )?(financ\w*|payer)|qui (paie|paye|finance|prend en charge)|quelles? aides?|aides? (pour|a|de)|financements?|financer|payer|de (ma|sa|notre) poche|reste a charge|budget|combien (coute|ca coute)|prise en charge|rembours\w*|(mon|notre|son|un) employeur (peut|doit)|imposer|temps de travail|heures de travail|droits?|(utiliser|mobiliser|servir de|sers de|sert de|activer) (mon |son |le |ses |mes )?(cpf|compte|droits)|comment (m |s |t )?en servir|comment (l |le |la )?utiliser|(c )?est quoi (le |la |l )?(cpf|opco|vae|fne|pro a)|faire reconna\w+|conge|how (to|do i|can i) (pay|fund|finance))\b",
}
# Words that only mention a kind: they set the focus when nothing above is asked.
_MENTIONS = {
    "training": rf"\b({_TRAINING_TERMS})\b",
    "funding": _INTENTS["funding"],
}


def _without(text: str, phrases: Sequence[str]) -> str:
    """``text`` (already ``plain``) with each phrase blanked, plural and feminine forms included:
    a job title says nothing of what is asked (« aide-soignante » asks for no « aide »)."""
    for phrase in phrases:
        folded = plain(phrase).strip()
        if folded:
            text = re.sub(rf"\b{re.escape(folded)}(s|e|es)?\b", " ", text)
    return text


def detect_intents(question: str, *, ignore: Sequence[str] = ()) -> set[str]:
    """Which kinds of passages the question asks for (``ignore``: job titles to blank first)."""
    text = _without(f" {plain(question)} ", ignore)
    return {name for name, pattern in _INTENTS.items() if re.search(pattern, text)}


def detect_focus(question: str, *, ignore: Sequence[str] = ()) -> str | None:
    """The first thing the question asks for: ``training``, ``certification``, ``funding`` or None.

    Args:
        question: the user's question.
        ignore: phrases to blank first (the asker's job title: "responsable formation" is not
            a request for trainings).
    """
    text = f" {plain(question)} "
    # Names that contain "formation" but are schemes, not a request for trainings.
    text = re.sub(r"\b(fne formation|plan de formation|compte personnel de formation|mon compte formation|organismes? de formation)\b", " dispositif ", text)
    text = _without(text, ignore)
    # « si je veux me former, qui paie ? »: the condition sets the scene; what follows is asked.
    text = re.sub(r"^\s*(si|if) [^?]*?\b(former|formation|train|training)\b", " ", text)
    # "Comment former mon équipe ?" asks how to go about it, not for a list of trainings.
    if re.match(r"\s*(comment|par ou commencer|how (do|can|should) (i|we))\b(?!.*\b(financ\w*|payer)\b)", text) and not re.search(
        r"\b(quelles?|quels?|which)\b", text
    ):
        return None
    for patterns in (_ASKS, _MENTIONS):
        first: tuple[int, str] | None = None
        for name, pattern in patterns.items():
            found = re.search(pattern, text)
            if found and (first is None or found.start() < first[0]):
                first = (found.start(), name)
        if first is not None:
            return first[1]
    return None


_KIND_WEIGHTS = {
    "training": {"training": 1.6, "certification": 1.1},
    "certification": {"certification": 1.7, "training": 1.05},
    "funding": {"document": 1.6},
    "impact": {"study": 1.4, "role": 1.3},
    "definition": {"document": 1.4, "study": 1.2},
    "study": {"study": 1.5},
}


@dataclass
class Hit:
    """A retrieved chunk with its fused score and its raw signals."""

    chunk: Chunk
    score: float
    dense: float | None = None
    dense_rank: int | None = None
    lexical: float | None = None
    lexical_rank: int | None = None


@dataclass
class Timings:
    """Where the time of one retrieval went, in milliseconds."""

    embed: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    fusion: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Dense + lexical search over one knowledge base version."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def embed(self, question: str) -> list[float]:
        return self.index.embedder.embed_query(question)

    def search(
        self,
        kb: KnowledgeBase,
        question: str,
        *,
        k: int = 8,
        kinds: set[str] | None = None,
        where: dict | None = None,
        allowed_records: set[str] | None = None,
        vector: list[float] | None = None,
        intents: set[str] | None = None,
        timings: Timings | None = None,
        depth: int = 30,
        audience: str | None = None,
    ) -> list[Hit]:
        """Fused hits, best first.

        Args:
            kb: the knowledge base version to search.
            question: the user's question.
            k: how many hits to return.
            kinds: restrict to these chunk kinds.
            where: extra Chroma metadata filter (kept in sync with ``allowed_records``).
            allowed_records: record keys the lexical side may return (the same filter as ``where``).
            vector: the question's embedding, when already computed.
            intents: weights kinds by intent (see ``detect_intents``).
            timings: filled with the time spent in each stage.
            depth: how many candidates each side contributes to the fusion.
            audience: favours passages written for this audience.
        """
        timings = timings or Timings()
        started = time.perf_counter()
        if vector is None:
            vector = self.embed(question)
        timings.embed += (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        clauses = []
        if kinds:
            clauses.append({"kind": {"$in": sorted(kinds)}})
        if where:
            clauses.append(where)
        chroma_where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        dense = self.index.vectors.query(kb.collection, vector, k=depth, where=chroma_where)
        timings.dense += (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        mask = None
        if kinds or allowed_records is not None:
            mask = [
                (not kinds or c.kind in kinds)
                and (allowed_records is None or c.record_key in allowed_records)
                for c in kb.chunks
            ]
        assert kb.lexical is not None
        lexical = kb.lexical.search(question, depth, mask)
        timings.lexical += (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        hits: dict[str, Hit] = {}
        for rank, (chunk_id, similarity) in enumerate(dense):
            row = kb.chunk_rows.get(chunk_id)
            if row is None:
                continue
            hit = hits.setdefault(chunk_id, Hit(chunk=kb.chunks[row], score=0.0))
            hit.dense, hit.dense_rank = similarity, rank
            hit.score += 1.0 / (RRF_K + rank + 1)
        for rank, (row, score) in enumerate(lexical):
            chunk = kb.chunks[row]
            hit = hits.setdefault(chunk.id, Hit(chunk=chunk, score=0.0))
            hit.lexical, hit.lexical_rank = score, rank
            hit.score += 1.0 / (RRF_K + rank + 1)
        weights: dict[str, float] = {}
        for intent in intents or ():
            for kind, weight in _KIND_WEIGHTS.get(intent, {}).items():
                weights[kind] = max(weights.get(kind, 1.0), weight)
        for hit in hits.values():
            hit.score *= weights.get(hit.chunk.kind, 1.0)
            # Guide pages written for the asker's audience (pupils, HR, companies) come first; the
            # study is for everyone.
            if (
                audience and hit.chunk.kind == "document"
                and audience in str(hit.chunk.metadata.get("audience", "")).split(",")
            ):
                hit.score *= 1.5
        ranked = sorted(hits.values(), key=lambda h: h.score, reverse=True)[:k]
        timings.fusion += (time.perf_counter() - started) * 1000
        return ranked
