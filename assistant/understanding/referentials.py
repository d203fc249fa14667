"""Lookups over the referentials of a knowledge base version: job titles and communes.

Job titles come from the job sheets (``Role``: its label and every title people use for it,
official ROME appellations and everyday names); a ROME title « Conducteur / Conductrice
d'engins agricoles » is read as its two gendered forms. Communes come from the places of the
knowledge base, with their postal codes when known. Both are matched on stemmed word tuples
(see ``lexicon.normalise_words``) and, for job titles only, with ``rapidfuzz`` for typos.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ..text import fold
from .lexicon import normalise_words, words_of
from .nlp import is_common_word

_ROME = re.compile(r"^[A-N]\d{4}$")

__all__ = ["JobIndex", "JobMatch", "PlaceIndex", "PlaceMatch", "gender_forms"]


def gender_forms(title: str) -> list[str]:
    """« Conducteur / Conductrice d'engins agricoles » -> both complete forms.

    Each form shorter than the last one borrows the last one's complement, which is how
    ROME writes gendered titles. Parenthesised acronyms become forms of their own.
    """
    forms: list[str] = []
    # « Auxiliaire Spécialisé Vétérinaire -ASV- »: ROME also writes acronyms between dashes.
    text = _DASHED_ACRONYM.sub(r"(\1)", title)
    while "(" in text and ")" in text.split("(", 1)[1]:
        before, rest = text.split("(", 1)
        inner, after = rest.split(")", 1)
        inner = inner.strip()
        if inner.isupper() and len(inner) >= 3 and " " not in inner:
            # An acronym left out of the title; a form of its own only when it abbreviates
            # the whole title (« -ASV- », « (DRH) »): « Directeur de Centre Hospitalier
            # Universitaire (CHU) » is no « CHU », which is where nurses work.
            if _abbreviates(inner, _DASHED_ACRONYM.sub(" ", f"{before} {after}")):
                forms.append(inner)
            text = f"{before} {after}"
        elif inner.upper() in ("H/F", "F/H"):
            text = f"{before} {after}"
        else:
            # A complement (« Conseiller / Conseillère (assurances) ») belongs to the title.
            text = f"{before} {inner} {after}"
    parts = [p.strip() for p in text.split("/") if p.strip()]
    if not parts:
        return forms
    last = parts[-1].split()
    for part in parts[:-1]:
        words = part.split()
        if len(words) < len(last):
            words = words + last[len(words):]
        forms.append(" ".join(words))
    forms.append(parts[-1])
    return forms


_DASHED_ACRONYM = re.compile(r"(?<!\w)-\s?([A-Z]{3,})\s?-(?!\w)")
#: words an acronym skips (« Agent de Service Hospitalier » is ASH)
_SKIPPED_BY_ACRONYMS = frozenset("de des du d la le les l en et a au aux ou pour par sur".split())


def _abbreviates(acronym: str, title: str) -> bool:
    """Whether an acronym is the initials of a title's words, in one of its gendered forms
    (« Agent / Agente de service hospitalier » is ASH, « Auxiliaire Spécialisé / Spécialisée
    Vétérinaire » ASV)."""
    bare = re.sub(r"\([^)]*\)", " ", title)
    candidates = [*gender_forms(bare), re.sub(r"/\s*\w+", " ", bare)]
    folded = acronym.lower()
    for candidate in candidates:
        words = [w for w in re.split(r"[^\w]+", fold(candidate)) if w]
        if folded in ("".join(w[0] for w in words if w not in _SKIPPED_BY_ACRONYMS), "".join(w[0] for w in words)):
            return True
    return False


@dataclass
class JobMatch:
    """Job title words found in a question, and the job sheets they name."""

    start: int
    end: int
    role_ids: list[str]
    words: str
    fuzzy: bool = False
    score: float = 100.0
    #: every sheet the words could name, before the question's other words narrowed them
    alternatives: list[str] = field(default_factory=list)


class JobIndex:
    """Every title of every job sheet, by stemmed word tuple."""

    def __init__(
        self, roles: dict, *, ambiguous: AbstractSet[tuple[str, ...]] = frozenset(), ignored: AbstractSet[str] = frozenset(),
    ) -> None:
        #: words of a conversation that never tell two job sheets apart (« formation », « IA »)
        self.ignored = frozenset(ignored)
        self._df: dict[str, int] | None = None
        self._vocab: list[str] | None = None
        self._by_key: dict[tuple[str, ...], set[str]] = {}
        self._longest = 0
        self.labels: dict[str, str] = {}
        everyday: dict[tuple[str, ...], set[str]] = {}
        #: the words of every name of a sheet (its context: « vendeuse en boulangerie »)
        self.name_stems: dict[str, frozenset[str]] = {}
        #: a sheet's own title (its label, each gendered form): « Secrétaire » is M1607's
        self._label_keys: dict[tuple[str, ...], str] = {}
        #: acronyms (« DOS », « IDE »): a job only when written in capitals
        self._acronyms: set[tuple[str, ...]] = set()
        #: how one-word titles are spelt (« urgentiste »), and which sheets each spelling names:
        #: a word stemmed alike but spelt far from all of them (« urgent », « accessoires ») is
        #: not the title; one stem may be two jobs (« enseignante », « enseigniste »)
        self._spelt_by: dict[str, dict[str, set[str]]] = {}
        #: how the first word of each title is spelt (« deviseur » begins « Deviseur en
        #: industries graphiques »; « devis » stems alike but is no title)
        self._first_spelt: dict[tuple[str, ...], set[str]] = {}
        #: the sheet each sheet details (ROME 4.0 ``code_rome_parent``)
        self.parents: dict[str, str] = {}
        for role_id, role in roles.items():
            self.labels[role_id] = role.label
            if getattr(role, "parent", None):
                self.parents[role_id] = role.parent
            official = [role.label, *role.aliases]
            if getattr(role, "rome_code", None):
                official.append(role.rome_code)
            for name in official:
                for form in gender_forms(name):
                    self._add(self._by_key, form, role_id)
                    self._spelt(form, role_id)
                    if form.isupper() and " " not in form and not _ROME.match(form) and (len(form) < 4 or is_common_word(fold(form))):
                        # Short acronyms (« ASV », « DOS ») and words (« MAR ») only in capitals;
                        # « atsem », « aesh » are no French word and may come in lower case.
                        self._acronyms.add(normalise_words(form))
            for form in gender_forms(role.label):
                self._label_keys.setdefault(normalise_words(form), role_id)
            names = [*official, *(getattr(role, "everyday_names", []) or [])]
            self.name_stems[role_id] = frozenset(
                w for name in names for w in normalise_words(name) if len(w) > 3
            )
            for name in getattr(role, "everyday_names", []) or []:
                for form in gender_forms(name):
                    self._add(everyday, form, role_id)
                    self._spelt(form, role_id)
        # The official titles win: an everyday name the team wrote never overrides a ROME
        # appellation, and a bare ambiguous word (« conseiller ») is no everyday name.
        for key, ids in everyday.items():
            if key not in self._by_key:
                self._by_key[key] = ids
        # A bare generic word (« conseiller », « technicien ») names no sheet by itself: it is
        # read as the beginning of the titles it starts (``partial``), which asks which one.
        for key in ambiguous:
            self._by_key.pop(key, None)
        self._longest = max((len(k) for k in self._by_key), default=0)
        self._fuzzy_keys = [" ".join(k) for k in self._by_key if sum(len(w) for w in k) >= 5]
        #: every word of every title: a word among them is spelt right, never a typo of another
        self._title_words = frozenset(w for k in self._by_key for w in k)
        #: titles by their first word (the doer in « conducteur de bus »), for ``by_activity``
        self._by_head: dict[str, list[tuple[str, ...]]] = {}
        for key in self._by_key:
            self._by_head.setdefault(key[0], []).append(key)
        #: short titles by the field they end on (« chargé d'accueil », « gestionnaire de
        #: paie », « chauffeur de taxi »): the sheets people name by their field, ``by_domain``
        self._by_field: dict[str, Counter[str]] = {}
        for key, ids in self._by_key.items():
            # (« … en banque », « … en usine » say where, not the field)
            if 2 <= len(key) <= 4 and sum(len(w) > 3 for w in key[1:-1]) <= 1 and len(key[-1]) >= 3 and key[-2] not in ("en", "dan", "chez"):
                for role_id in ids:
                    self._by_field.setdefault(key[-1], Counter())[role_id] += 1
        self._prefixes: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for key in self._by_key:
            for n in range(1, min(3, len(key)) + 1):
                self._prefixes.setdefault(key[:n], set()).add(key)
        # A bare word that is only an official alias of some sheet (« Mécanicien » is a title of
        # the marine mechanic's sheet) while beginning the titles of others (« mécanicien
        # automobile ») names all of them: the conversation's context chooses, or we ask.
        # A sheet's own title and the everyday names the team wrote stay exact.
        # (Only a word that shortens its own sheet's label as well: « Graphiste » is a title of
        # its own for the « Designer graphique » sheet and stays exact.)
        self._widened: dict[tuple[str, ...], set[str]] = {}
        label_starts = {
            role_id: {normalise_words(form)[:1] for form in gender_forms(role.label)} for role_id, role in roles.items()
        }
        for key, ids in self._by_key.items():
            if len(key) != 1 or key in self._label_keys or key in everyday or key in self._acronyms:
                continue
            if not any(key in label_starts.get(i, set()) for i in ids):
                continue
            others = {i for k in self._prefixes.get(key, ()) for i in self._by_key[k]}
            if others - ids:
                self._widened[key] = others | ids

    def _spelt(self, form: str, role_id: str) -> None:
        words = words_of(form)
        if words:
            self._first_spelt.setdefault(normalise_words(words[0])[:1] or ("",), set()).add(words[0])
        if len(words) == 1:
            self._spelt_by.setdefault(normalise_words(form)[0], {}).setdefault(words[0], set()).add(role_id)

    def _closest(self, stem: str, word: str, ids: set[str]) -> set[str]:
        """The sheets of the one-word titles spelt nearest to ``word`` (« enseignante » names
        the teacher's everyday name, not the official « Enseigniste » stemmed alike)."""
        from rapidfuzz.distance import Levenshtein

        spelt = self._spelt_by.get(stem)
        if not spelt or len(spelt) < 2:
            return ids
        distances = {s: Levenshtein.distance(word, s) for s in spelt}
        best = min(distances.values())
        if best >= min((d for s, d in distances.items() if spelt[s] & ids), default=99):
            return ids
        return {i for s, d in distances.items() if d == best for i in spelt[s]}

    def begins_alike(self, stem: str, word: str) -> bool:
        """Whether ``word`` is spelt like the first word of a title it stems like (a plural,
        a typo: « vendeuses », not « devis » for « deviseur »)."""
        return _spelt_near(word, self._first_spelt.get((stem,)))

    def spelt_alike(self, stem: str, word: str) -> bool:
        """Whether ``word`` is one of the spellings of a one-word title (a plural, a typo)."""
        return _spelt_near(word, self._spelt_by.get(stem))

    @staticmethod
    def _add(table: dict[tuple[str, ...], set[str]], form: str, role_id: str) -> None:
        key = normalise_words(form)
        if key:
            table.setdefault(key, set()).add(role_id)

    def __len__(self) -> int:
        return len(self._by_key)

    def find(
        self, stems: Sequence[str], *, upper: Sequence[bool] | None = None, words: Sequence[str] | None = None,
    ) -> list[JobMatch]:
        """Exact title matches, longest first, non-overlapping.

        Args:
            stems: the question's stemmed words.
            upper: for each word, whether it was written in capitals; an acronym title
                (« DOS ») matches only a word in capitals (« dos » is a back, « dose » a dose).
            words: the question's folded words: a one-word title matches only a word spelt
                near it (« accessoires » stems like « accessoiriste », « archives » like
                « archiviste »; neither is the job).
        """
        found: list[JobMatch] = []
        i = 0
        while i < len(stems):
            for n in range(min(self._longest, len(stems) - i), 0, -1):
                key = tuple(stems[i : i + n])
                ids = self._by_key.get(key)
                if not ids and key[-1][-1:] in ("s", "x") and len(key[-1]) > 4:
                    # A plural the stemmer left (« mécanos »): the singular title.
                    key = (*key[:-1], key[-1][:-1])
                    ids = self._by_key.get(key)
                if ids and key in self._acronyms and not (upper is not None and all(upper[i : i + n])):
                    ids = None
                if ids and n == 1 and words is not None and not self.spelt_alike(key[0], words[i]):
                    ids = None
                elif ids and n == 1 and words is not None:
                    ids = self._closest(key[0], words[i], ids)
                if ids:
                    widened = self._widened.get(key)
                    found.append(JobMatch(
                        i, i + n, sorted(widened or ids), " ".join(stems[i : i + n]), fuzzy=widened is not None,
                    ))
                    i += n
                    break
            else:
                i += 1
        return found

    def fuzzy(
        self, stems: Sequence[str], *, start: int, cutoff: float = 88.0, function_words: AbstractSet[int] = frozenset(),
    ) -> JobMatch | None:
        """The best title within 1-4 words from ``start``, allowing typos (rapidfuzz ratio).

        ``function_words``: positions of the question's small words (« dans », « à »): a title
        read with typos never ends on one (« ouvrier dans » is no « ouvrier d… »).
        """
        from rapidfuzz import fuzz, process

        best: JobMatch | None = None
        for n in range(min(4, len(stems) - start), 0, -1):
            window = " ".join(stems[start : start + n])
            if len(window) < 5 or (n == 1 and window in self._title_words):
                continue  # too short, or a title word spelt right (« facteur » is no « acteur »)
            if n > 1 and (len(stems[start + n - 1]) <= 2 or start + n - 1 in function_words):
                continue  # « technicien à Lille »: a title does not end on « à »
            hit = process.extractOne(window, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
            if hit and (best is None or hit[1] > best.score):
                key = tuple(hit[0].split())
                best = JobMatch(start, start + n, sorted(self._by_key[key]), hit[0], fuzzy=True, score=hit[1])
        return best

    def partial(
        self, stems: Sequence[str], *, start: int, clip: bool = True, context: AbstractSet[str] | None = None,
        function_words: AbstractSet[int] = frozenset(),
    ) -> JobMatch | None:
        """Titles that begin with the words at ``start`` (« agent magasinier … », « chauffeur »).

        The longest shared beginning wins; among its titles, those sharing most other words
        with the question. Several sheets left make an ambiguous mention: the dialogue keeps a
        job already known among them, or asks which one.
        """
        if start >= len(stems) or len(stems[start]) < 4:
            return None
        # Only content words tell titles apart (« en », « de », « à » do not; nor « changer »
        # in « je suis conseiller, l'IA va changer quoi ? » when the nouns are given).
        if context is None:
            context = {w for w in stems if len(w) > 2}
        for n in range(min(3, len(stems) - start), 0, -1):
            prefix = tuple(stems[start : start + n])
            if n > 1 and (len(prefix[-1]) <= 2 or start + n - 1 in function_words):
                continue  # « conseiller clientèle à … », « ouvrier dans le bâtiment »: no title ends there
            if prefix in self._label_keys:
                # « ma secrétaire »: the sheet titled so, not « secrétaire général ».
                role_id = self._label_keys[prefix]
                return JobMatch(start, start + n, [role_id], " ".join(prefix), fuzzy=True, score=0.0)
            keys = self._prefixes.get(prefix)
            if not keys and clip:
                keys = self._clipped(prefix)
                # « compta »: the sheet titled « Comptable », not one of its many kin.
                titled = {self._label_keys[k] for k in keys if len(k) == n and k in self._label_keys}
                # « agent de sécu »: the title it shortens (« agent de sécurité »), not longer
                # ones (« agent de sécurité événementielle »).
                whole = {i for k in keys if len(k) == n for i in self._by_key[k]}
                if len(titled) == 1 or (not titled and len(whole) == 1):
                    return JobMatch(start, start + n, sorted(titled or whole), " ".join(prefix), fuzzy=True, score=0.0)
            if not keys:
                continue
            scored = sorted(((_shared(k, context), k) for k in keys), reverse=True)
            best = scored[0][0]
            ids = sorted({i for score, k in scored if score == best for i in self._by_key[k]})
            everyone = sorted({i for k in keys for i in self._by_key[k]})
            return JobMatch(start, start + n, ids, " ".join(stems[start : start + n]), fuzzy=True, score=0.0, alternatives=everyone)
        return None

    def specialise(self, match: JobMatch, stems: Sequence[str], context: AbstractSet[str]) -> JobMatch:
        """A more specific title the conversation completes, for an exact title that begins others.

        « opérateur de production » (H2909) in « … dans une usine agroalimentaire » is the
        « Opérateur / Opératrice de production en industrie alimentaire » (H2105): the longer
        title whose other words the conversation says wins, when one leads.
        """
        key = tuple(stems[match.start : match.end])
        if match.fuzzy or not context:
            return match
        wanted = {w for w in context if len(w) > 3} - set(key) - self.ignored
        scored: dict[str, float] = {}
        for longer in self._prefixes.get(key, ()):
            if len(longer) <= len(key):
                continue
            extra = {w for w in longer[len(key):] if len(w) > 3}
            # (« chargé de clientèle bancaire » before « … bancaire grandes entreprises »: the
            # title that adds least besides what was said)
            score = sum(self._idf(w) for w in extra & wanted) - 0.01 * len(extra - wanted) if extra & wanted else 0.0
            for role_id in self._by_key.get(longer, ()):
                scored[role_id] = max(scored.get(role_id, 0.0), score)
        ranked = sorted(scored.items(), key=lambda x: -x[1])
        if not ranked or ranked[0][1] <= 0 or (len(ranked) > 1 and ranked[1][1] >= ranked[0][1]):
            return match
        if ranked[0][0] in match.role_ids:
            return match
        return JobMatch(match.start, match.end, [ranked[0][0]], match.words, fuzzy=False, score=match.score,
                        alternatives=sorted({*match.role_ids, ranked[0][0]}))

    def by_activity(self, verb: str, objects: AbstractSet[str]) -> JobMatch | None:
        """The sheets of someone who does what a sentence says (« je conduis des bus »).

        The doer of the verb is a title's first word sharing the verb's beginning (conduire ->
        conducteur, réparer -> réparateur); among the titles it begins, those sharing most of
        the sentence's other words (« bus ») win. Nothing when no title word is shared: « je
        conduis » alone says too little.
        """
        agent_endings = ("eur", "ric", "ant", "ier", "ien", "air", "ist")
        if len(verb) < 4:
            return None
        wanted = {o for o in objects if o != verb and len(o) > 2} - self.ignored
        if not wanted:
            return None
        heads = [
            head for head in self._by_head
            if head == verb or (
                head.endswith(agent_endings)
                and len(os.path.commonprefix([head, verb])) >= max(4, min(5, len(verb) - 1))
            )
        ]
        scored: dict[str, float] = {}
        for key in (key for head in heads for key in self._by_head[head]):
            ids = self._by_key[key]
            score = sum(self._idf(w) for w in key[1:] if w in wanted or (len(w) > 3 and any(_kin(o, w) for o in wanted if len(o) > 3)))
            for role_id in ids:
                scored[role_id] = max(scored.get(role_id, 0.0), score)
        ranked = sorted(((s, i) for i, s in scored.items() if s > 0), reverse=True)
        if not ranked:
            return None
        best = ranked[0][0]
        leaders = [i for s, i in ranked if s >= best - 0.5][:4]
        return JobMatch(0, 0, leaders, verb, fuzzy=True, score=0.0, alternatives=[i for _, i in ranked[:8]])

    def by_domain(self, word: str, context: AbstractSet[str], *, ask: bool) -> JobMatch | None:
        """The sheets of someone named by their field (« je suis taxi », « je bosse à l'accueil »).

        The field is the word short titles end on (« chargé d'accueil », « hôte d'accueil »,
        « agent d'accueil »). The conversation's other words choose among their sheets
        (« au guichet » of a bank); otherwise the sheet holding most of those titles, when it
        holds most of them (after a job cue, or twice as many as any other). With ``ask``, two to four sheets sharing them make an ambiguous
        mention (« paysagiste »), which the dialogue asks about.
        """
        counts = self._by_field.get(word)
        if not counts or word in self.ignored or len(self._by_head.get(word, ())) > sum(counts.values()):
            return None  # (a word beginning more titles names a doer: « conseiller » is no « conseil »)
        ranked = [role_id for role_id, n in counts.most_common() if n >= 2] or [counts.most_common(1)[0][0]]
        chosen = self.by_context([role_id for role_id, _ in counts.most_common()], context - {word}) if len(counts) > 1 else []
        if len(chosen) == 1:
            return JobMatch(0, 0, chosen, word, fuzzy=True, score=0.0, alternatives=ranked[:4])
        (leader, first), *rest = counts.most_common()
        second = rest[0][1] if rest else 0
        most = first >= 0.6 * sum(counts.values())
        # Said after a job cue (``ask``), a clear lead is enough; said after a workplace
        # (« je bosse à la banque »), the field must be most of a handful of titles.
        if (ask and first >= 3 and (most or first >= 2 * second)) or (first >= 4 and most):
            return JobMatch(0, 0, [leader], word, fuzzy=True, score=0.0, alternatives=ranked[:4])
        if ask and first >= 3 and len(ranked) <= 4:
            return JobMatch(0, 0, ranked, word, fuzzy=True, score=0.0, alternatives=ranked)
        return None

    def clipped_title(self, word: str) -> JobMatch | None:
        """The one sheet whose one-word title ``word`` clips (« compta » for « Comptable »)."""
        if (word,) in self._prefixes:
            return None  # a word that begins titles as written is no clipping
        titled = {self._label_keys[k] for k in self._clipped((word,)) if len(k) == 1 and k in self._label_keys}
        if len(titled) != 1:
            return None
        return JobMatch(0, 0, sorted(titled), word, fuzzy=True, score=0.0)

    def knows_word(self, stem: str) -> bool:
        """Whether a stemmed word is a word of some title (« formatric », « magasin »): the
        tagger may read « formatrice » as a participle, a title word it stays."""
        return stem in self._title_words

    def is_label(self, stems: Sequence[str]) -> bool:
        """Whether ``stems`` are a sheet's own title (« Facteur / Factrice » for M1603)."""
        return tuple(stems) in self._label_keys

    def _clipped(self, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        """Titles whose words begin as written, the last one clipped as people clip words
        (« labo » for laboratoire, « compta » for comptabilité, « guichet » for guichetier)."""
        last = prefix[-1]
        if len(last) < 4:
            return set()
        pool = self._prefixes.get(prefix[:-1], set()) if len(prefix) > 1 else self._by_key.keys()
        n = len(prefix)
        return {k for k in pool if len(k) >= n and k[: n - 1] == prefix[:-1] and k[n - 1].startswith(last) and k[n - 1] != last}

    def by_context(
        self, ids: Sequence[str], context: AbstractSet[str], *, own: AbstractSet[str] = frozenset(), margin: float = 1.0,
        near: AbstractSet[str] = frozenset(),
    ) -> list[str]:
        """The sheets among ``ids`` whose names share the most telling words with the conversation.

        « 4 vendeuses » in a question about a bakery: « Vendeur / Vendeuse en
        boulangerie-pâtisserie » (D1106) shares « boulangerie ». Each shared word weighs by how
        rare it is among all titles (inverse document frequency), so « boulangerie » tells
        more than « commerce »; words of the title's own sentence (``near``) count twice.
        Returns one sheet when it leads by ``margin``; otherwise those sharing a word, best
        first; all of ``ids`` when none does.
        """
        wanted = {w for w in context if len(w) > 3} - set(own) - self.ignored

        def shared(role_id: str) -> float:
            # A word matches a title word it is, or begins when clipped (« labo », laboratoire),
            # or of which it is a longer form (« pharmacien » for pharmacie).
            stems = self.name_stems.get(role_id, frozenset())
            return sum(
                self._idf(w) * (2 if w in near else 1)
                for w in wanted if w in stems or any(_kin(w, s) for s in stems)
            )

        scored = sorted(((shared(i), i) for i in ids), key=lambda x: -x[0])
        if not scored or scored[0][0] == 0:
            return list(ids)
        second = scored[1][0] if len(scored) > 1 else 0.0
        if scored[0][0] - second >= margin:
            return [scored[0][1]]
        return [i for score, i in scored if score > 0]

    def named_with(self, context: AbstractSet[str], *, own: AbstractSet[str] = frozenset(), limit: int = 12) -> list[str]:
        """The sheets whose names say the conversation's telling words, best first: « ouvrier du
        textile » names no « ouvrier … » title with « textile », but textile sheets do."""
        wanted = {w for w in context if len(w) > 3} - set(own) - self.ignored
        if not wanted:
            return []
        scores = {
            role_id: sum(self._idf(w) for w in wanted if w in stems) for role_id, stems in self.name_stems.items()
        }
        ranked = sorted((i for i, score in scores.items() if score > 0), key=lambda i: (-scores[i], i))
        return ranked[:limit]

    def cognates(self, stems: Sequence[str], *, start: int, end: int, cutoff: float = 85.0) -> JobMatch | None:
        """A job named in another language with words close to French titles' words.

        « medical lab technician »: each word is matched to the French title words it spells
        nearly alike (« technician » ~ « technicien », « medical ») or begins (« lab »,
        laboratoire), in any order; the sheet whose names hold the most of them, weighted by
        rarity, wins when it holds at least two and leads clearly.
        """
        from rapidfuzz import fuzz, process

        if self._vocab is None:
            self._vocab = sorted({w for stems_ in self.name_stems.values() for w in stems_})
        matched: list[set[str]] = []
        for word in stems[start:end]:
            if len(word) < 3 or word in self.ignored:
                continue
            near = {m for m, _, _ in process.extract(word, self._vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8)}
            if len(word) <= 4:
                near |= {v for v in self._vocab if v.startswith(word)}
            if near:
                matched.append(near)
        if len(matched) < 2:
            return None
        scored = []
        for role_id, names in self.name_stems.items():
            found = [max(self._idf(w) for w in near & names) for near in matched if near & names]
            if len(found) >= 2:
                scored.append((len(found), sum(found), role_id))
        if not scored:
            return None
        scored.sort(reverse=True)
        best = scored[0]
        if len(scored) > 1 and scored[1][:1] == best[:1] and best[1] - scored[1][1] < 0.5:
            return None
        return JobMatch(start, end, [best[2]], " ".join(stems[start:end]), fuzzy=True, score=0.0)

    def _idf(self, word: str) -> float:
        if self._df is None:
            df: dict[str, int] = {}
            for stems in self.name_stems.values():
                for w in stems:
                    df[w] = df.get(w, 0) + 1
            self._df = df
        return math.log((len(self.name_stems) + 1) / (self._df.get(word, 0) + 1))

    def display(self, role, words: str) -> str:
        """The title of ``role`` closest to how the person wrote it, as the referential spells it."""
        wanted = normalise_words(words)
        names = [role.label, *role.aliases]
        for name in names:
            for form in gender_forms(name):
                if normalise_words(form) == wanted:
                    return form
        for form in gender_forms(role.label):
            key = normalise_words(form)
            if key and wanted and key[0] == wanted[0]:
                return form
        return gender_forms(role.label)[0] if gender_forms(role.label) else role.label

    def lookup(self, text: str) -> list[str]:
        """The job sheets a whole wording names exactly (used for clarifying choices)."""
        return sorted(self._by_key.get(normalise_words(text), set()))


def _spelt_near(word: str, spellings) -> bool:
    """Whether ``word`` is within two edits of one of ``spellings`` (none known: it may be)."""
    from rapidfuzz.distance import Levenshtein

    return not spellings or any(Levenshtein.distance(word, s, score_cutoff=2) <= 2 for s in spellings)


def _kin(word: str, stem: str) -> bool:
    """Whether two stems are one word, one clipped (« labo », laboratoire) or derived from the
    other (« pharmacien », pharmacie): one begins the other, over five letters at least."""
    if word == stem:
        return True
    short, long_ = sorted((word, stem), key=len)
    return long_.startswith(short) and (len(short) >= 5 or short == word)


def _shared(key: tuple[str, ...], context: AbstractSet[str]) -> int:
    """How many words of a title the question's context holds (kin words count)."""
    return sum(1 for k in key if k in context or any(_kin(c, k) for c in context if len(c) > 3))


@dataclass
class PlaceMatch:
    """A commune or département named in a question."""

    start: int
    end: int
    departments: list[str]
    commune: str | None = None
    population: int = 0
    names: list[str] = field(default_factory=list)
    #: the département of each name
    departments_of: list[str] = field(default_factory=list)


class PlaceIndex:
    """Communes (and their postal codes) of the region, by folded word tuple.

    Besides each official name, a commune is found by the short name people use: the first part
    of a compound name, without its article (« Le Touquet-Paris-Plage » -> « Touquet »,
    « Boulogne-sur-Mer » -> « Boulogne », « Hénin-Beaumont » -> « Hénin »), when no commune
    bears that name exactly. A short name shared by several communes names the most populous
    when it is at least ten times as large as all the others together (« Boulogne »), else it
    stays ambiguous and a question decides.
    """

    def __init__(self, places: Iterable) -> None:
        self._by_key: dict[tuple[str, ...], list] = {}
        self._longest = 0
        self.postal: dict[str, set[str]] = {}
        short: dict[tuple[str, ...], list] = {}
        for place in places:
            # Communes are compared on their exact folded words, not stems: « Pommiers » (02)
            # and « Pommier » (62) are two communes.
            key = tuple(words_of(place.commune))
            if not key:
                continue
            self._by_key.setdefault(key, []).append(place)
            self._longest = max(self._longest, len(key))
            for code in getattr(place, "postal_codes", []) or []:
                self.postal.setdefault(str(code), set()).add(place.department)
            for alias in _short_names(place.commune):
                short.setdefault(alias, []).append(place)
        for alias, named in short.items():
            if alias in self._by_key:
                continue
            populations = sorted((int(getattr(p, "population", 0) or 0) for p in named), reverse=True)
            if len(named) > 1 and populations[0] >= 10 * max(sum(populations[1:]), 1):
                named = [max(named, key=lambda p: int(getattr(p, "population", 0) or 0))]
            self._by_key[alias] = named

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def find(self, stems: Sequence[str]) -> list[PlaceMatch]:
        """Communes named in a sequence of folded words (``words``, not stems)."""
        found: list[PlaceMatch] = []
        i = 0
        while i < len(stems):
            # « au Quesnoy » is « à Le Quesnoy », « aux Attaques » « à Les Attaques »
            article = _CONTRACTED.get(stems[i - 1], ()) if i > 0 else ()
            for n in range(min(self._longest, len(stems) - i), 0, -1):
                places = (article and self._by_key.get((*article, *stems[i : i + n]))) or self._by_key.get(_saint_key(stems[i : i + n]))
                if places:
                    departments = sorted({p.department for p in places})
                    found.append(PlaceMatch(
                        i, i + n, departments, commune=places[0].commune,
                        population=max(int(getattr(p, "population", 0) or 0) for p in places),
                        names=[p.commune for p in places],
                        departments_of=[p.department for p in places],
                    ))
                    i += n
                    break
            else:
                i += 1
        return found


_ARTICLES = ("le", "la", "les", "l")
#: contracted articles before a commune's name: « au Touquet », « du Portel », « aux Attaques »
_CONTRACTED = {"au": ("le",), "du": ("le",), "aux": ("les",), "des": ("les",)}
_NOT_SHORT = frozenset({"saint", "sainte", "st", "ste", "notre", "mont", "grand", "petit", "haut", "bas", "vieux", "neuf", "neuve", "bois", "fort"})


def _short_names(commune: str) -> list[tuple[str, ...]]:
    """The short names of a compound commune name: its first part, with and without article."""
    parts = [part for part in commune.replace("'", "' ").split("-") if part.strip()]
    if len(parts) < 2 and not commune.lower().startswith(("le ", "la ", "les ", "l'")):
        return []
    first = words_of(parts[0])
    article = first[:1] if first and first[0] in _ARTICLES else []
    core = first[len(article):]
    # An everyday word is no short name (« Les Hauts-Talican » is not « hauts »).
    if len(core) != 1 or len(core[0]) < 4 or core[0] in _NOT_SHORT or is_common_word(core[0], margin=0.5):
        return []
    names = [tuple(core)]
    if article:
        names.append((*article, *core))
    return names


def _saint_key(stems: Sequence[str]) -> tuple[str, ...]:
    """« St Quentin » and « Ste Catherine » written short, as people do."""
    abbreviations = {"st": "saint", "ste": "sainte"}
    return tuple(abbreviations.get(s, s) for s in stems)
