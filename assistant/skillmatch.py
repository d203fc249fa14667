"""Certification blocs that match a ROME job sheet, by its skills (not by hand).

A bloc matches a sheet when its title is close to one of the sheet's skills or knowledge items:
each folded word (cut to its first 6 letters, a cheap French stem) weighs its inverse frequency
among bloc titles and skills, and the score of a bloc is its best weighted Jaccard similarity with
one item of the sheet (shared weight / weight of the union, at least two shared words). The item
must also say the bloc's most specific word, most of the bloc title's weight, and « IA » when the
bloc does: shared generic verbs (« concevoir », « gérer ») make no match. Blocs of certifications
whose ROME codes name the sheet come first whatever their score.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from .models import Bloc, Certification, Role
from .text import plain

__all__ = ["BlocMatch", "blocs_for_role"]

_STOP = frozenset(
    "les des une dans pour avec par sur aux est son ses leur leurs qui que quoi dont aux afin "
    "selon ainsi entre sous vers chez tout tous toute toutes plus moins etre avoir faire mettre "
    "bloc blocs competence competences option specialite niveau unite module ects cadre "
    "activite activites professionnel professionnelle professionnels partir".split()
)
#: weighted Jaccard similarity a bloc title needs with one skill of the sheet
MIN_SCORE = 0.3
#: share of a bloc title's weight one item of the sheet must say
MIN_COVERAGE = 0.6

def _stems(text: str) -> list[str]:
    # (« IA » is short but says what a bloc is about: « Gérer un projet IA » is no project management)
    return [w[:6] for w in plain(text).split() if (len(w) > 2 or w == "ia") and w not in _STOP]

@dataclass(frozen=True)
class BlocMatch:
    """A bloc and its certification, with the share of the bloc's title found in the sheet."""

    certification: Certification
    bloc: Bloc
    score: float
    targeted: bool

def blocs_for_role(role: Role, certifications: list[Certification], *, limit: int = 8) -> list[BlocMatch]:
    """The blocs closest to ``role``'s skills, best first (at most ``limit``)."""
    blocs = [(c, b, set(_stems(b.title))) for c in certifications for b in c.blocs]
    if not blocs:
        return []
    items = [set(_stems(i.label)) for i in [*role.skills, *role.knowledge]]
    items = [i for i in items if i]
    frequency = Counter(stem for _, _, stems in blocs for stem in stems)
    idf = {stem: math.log(1 + len(blocs) / n) for stem, n in frequency.items()}
    rare = max(idf.values(), default=1.0)  # weight of a word no bloc title uses
    found: list[BlocMatch] = []
    for cert, bloc, stems in blocs:
        targeted = role.rome_code in cert.rome_codes
        best = 0.0
        # What the bloc is about is its most specific word (« logiciels » in « concevoir et
        # développer des logiciels »): an item that shares only the generic verbs is no match.
        topic = max(stems, key=lambda s: (idf[s], s)) if stems else None
        for item in items:
            shared = stems & item
            if len(shared) < 2 or topic not in shared or ("ia" in stems and "ia" not in item):
                continue
            # Most of the bloc's title is said by the item (« organisation d'évènements
            # professionnels » says little of « piloter l'organisation d'événements sportifs »).
            if sum(idf[s] for s in shared) < MIN_COVERAGE * sum(idf[s] for s in stems):
                continue
            union = sum(idf.get(s, rare) for s in stems | item)
            best = max(best, sum(idf[s] for s in shared) / union)
        if targeted or best >= MIN_SCORE:
            found.append(BlocMatch(cert, bloc, round(best, 3), targeted))
    found.sort(key=lambda m: (not m.targeted, -m.score, m.bloc.code))
    return found[:limit]

