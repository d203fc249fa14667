"""The vocabulary of ``lexicon.yaml``, compiled into phrase tables.

A phrase and a question are compared word by word after the same normalisation: folded
(lower case, no accents, no elisions), hyphens as spaces, each word reduced by the French
Snowball stemmer (so « formations » and « formation », « chères » and « chère » meet). Lookups
are exact on those word tuples; typos are handled where they matter (job titles) by rapidfuzz.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..text import fold

__all__ = ["Lexicon", "PhraseTable", "lexicon", "normalise_words", "stem_words", "words_of"]

_WORD = re.compile(r"[a-z0-9€]+")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def words_of(text: str) -> list[str]:
    """Folded words of a text (hyphens and apostrophes separate words)."""
    return _WORD.findall(fold(text.replace("-", " ")))


@lru_cache(maxsize=1)
def _stem_overrides() -> dict[str, str]:
    """Folded words whose Snowball stem would merge them with unrelated words (``lexicon.yaml``,
    ``stem_overrides``: « éleveur » and « élévateur » are not « élève »)."""
    import yaml

    raw = yaml.safe_load((Path(__file__).parent / "lexicon.yaml").read_text(encoding="utf-8"))
    return {fold(word): stem for stem, words in raw.get("stem_overrides", {}).items() for word in words}


def stem_words(words: Sequence[str]) -> tuple[str, ...]:
    """The Snowball stems of folded words (digits and symbols kept as they are)."""
    words = list(words)
    stems = _stemmer().stemWords(words)
    overrides = _stem_overrides()
    if overrides.keys().isdisjoint(words):
        return tuple(stems)  # (the usual case, on every question and passage: no Python loop)
    return tuple(overrides.get(word, stem) for word, stem in zip(words, stems, strict=True))


def normalise_words(text: str) -> tuple[str, ...]:
    """A phrase as the key the tables compare."""
    return stem_words(words_of(text))


@dataclass
class PhraseTable:
    """Phrases (word tuples) -> labels; finds them in a word sequence, longest first."""

    entries: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    longest: int = 0

    def add(self, phrase: str, label: str) -> None:
        key = normalise_words(phrase)
        if not key:
            return
        self.entries.setdefault(key, set()).add(label)
        self.longest = max(self.longest, len(key))

    @classmethod
    def of(cls, groups: dict[str, Iterable[str]] | Iterable[str]) -> PhraseTable:
        table = cls()
        if isinstance(groups, dict):
            for label, phrases in groups.items():
                for phrase in phrases:
                    table.add(str(phrase), str(label))
        else:
            for phrase in groups:
                table.add(str(phrase), str(phrase))
        return table

    def find(self, stems: Sequence[str]) -> list[tuple[int, int, set[str]]]:
        """Non-overlapping ``(start, end, labels)`` matches, longest first, left to right."""
        found: list[tuple[int, int, set[str]]] = []
        i = 0
        while i < len(stems):
            for n in range(min(self.longest, len(stems) - i), 0, -1):
                labels = self.entries.get(tuple(stems[i : i + n]))
                if labels:
                    found.append((i, i + n, labels))
                    i += n
                    break
            else:
                i += 1
        return found

    def contains(self, stems: Sequence[str]) -> bool:
        return bool(self.find(stems))


def _word_set(words: Iterable[str], read: Callable[[str], Sequence[str]]) -> frozenset[str]:
    """A list of words as the reader compares them: stemmed (``normalise_words``) or folded only
    (``words_of``, for words the stemmer would merge with others)."""
    return frozenset(read(" ".join(words)))


class Lexicon:
    """Every table of ``lexicon.yaml``, built once per process."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.casual = {fold(k): v for k, v in raw["casual"].items()}
        #: English job names -> French titles, applied to English questions only
        self.english_jobs = {fold(k): v for k, v in raw.get("english_jobs", {}).items()}
        self.format = PhraseTable.of(raw["format"])
        self.funding = PhraseTable.of(raw["funding"])
        self.payers = PhraseTable.of(raw["payers"])
        self.payment = PhraseTable.of(raw["payment"])
        self.funding_questions = PhraseTable.of(raw["funding_questions"])
        self.what_is = PhraseTable.of(raw["what_is"])
        self.funding_question_starts = PhraseTable.of(raw["funding_question_starts"])
        self.payer_question_links = _word_set(raw["payer_question_links"], normalise_words)
        self.certifying = PhraseTable.of(raw["certifying"])
        self.short = PhraseTable.of(raw["short"])
        self.short_hours = float(raw["short_training_hours"])
        self.free = PhraseTable.of(raw["free"])
        self.hour_units = {normalise_words(k)[0]: float(v) for k, v in raw["hour_units"].items()}
        self.euro_units = {normalise_words(k)[0] for k in raw["euro_units"] if normalise_words(k)}
        self.at_most = PhraseTable.of(raw["at_most"])
        self.at_most_strong = PhraseTable.of(raw["at_most_strong"])
        self.elapsed = PhraseTable.of(raw["elapsed"])
        self.next_step_questions = PhraseTable.of(raw["next_step_questions"])
        self.continuations = PhraseTable.of(raw["continuations"])
        self.social = PhraseTable.of(raw["social"])
        self.sector_cues = PhraseTable.of(raw["sector_cues"])
        self.domain_cues = PhraseTable.of(raw["domain_cues"])
        self.cheaper = PhraseTable.of(raw["cheaper"])
        self.shorter = PhraseTable.of(raw["shorter"])
        self.closer = PhraseTable.of(raw["closer"])
        self.instead = PhraseTable.of(raw["instead"])
        self.anywhere = PhraseTable.of(raw["anywhere"])
        self.language_request = PhraseTable.of(raw["language_request"])
        self.longer = PhraseTable.of(raw["longer"])
        self.pick = PhraseTable.of(raw["pick"])
        self.for_myself = PhraseTable.of(raw["for_myself"])
        #: relatives the asker may ask for (« mon mari est routier, il peut se former ? »)
        self.family = PhraseTable.of(raw["family"])
        #: words that end what a drop cue lets go (« peu importe le prix mais en présentiel »)
        self.contrast = frozenset(fold(w) for w in raw["contrast"])
        self.drop_cues = PhraseTable.of(raw["drop_cues"])
        self.drop_fields = PhraseTable.of(raw["drop_fields"])
        self.negation = {fold(w) for w in raw["negation"]}
        self.correction = PhraseTable.of(raw["correction"])
        self.self_job_cues = PhraseTable.of(raw["self_job_cues"])
        self.become = PhraseTable.of(raw["become"])
        self.studying_for = PhraseTable.of(raw["studying_for"])
        self.job_modifiers = {normalise_words(w)[0] for w in raw["job_modifiers"] if normalise_words(w)}
        self.relations = PhraseTable.of(raw["relations"])
        self.possessives = {normalise_words(w)[0] for w in raw["possessives"]}
        self.learners_cues = PhraseTable.of(raw["learners_cues"])
        self.team = PhraseTable.of(raw["team"])
        self.team_units = PhraseTable.of(raw["team_units"])
        self.audience = PhraseTable.of(raw["audience"])
        self.situation = PhraseTable.of(raw["situation"])
        self.we_are = PhraseTable.of(raw["we_are"])
        self.organisations = PhraseTable.of(raw["organisations"])
        self.headcount = PhraseTable.of(raw["headcount"])
        self.team_titles = PhraseTable.of(raw["team_titles"])
        self.for_them = PhraseTable.of(raw["for_them"])
        self.first_person = _word_set(raw["first_person"], words_of)
        self.facts_questions = PhraseTable.of(raw["facts_questions"])
        self.exposure_questions = PhraseTable.of(raw["exposure_questions"])
        self.someday_before = _word_set(raw["someday_before"], normalise_words)
        self.someday_after = _word_set(raw["someday_after"], words_of)
        self.greetings = _word_set(raw["greetings"], normalise_words)
        self.openers = _word_set(raw["openers"], normalise_words)
        self.headcount_ends = PhraseTable.of(raw["headcount_ends"])
        self.headcount_links = _word_set(raw["headcount_links"], normalise_words)
        self.ambiguous_titles = {normalise_words(w) for w in raw["ambiguous_titles"]}
        self.place_cues = PhraseTable.of(raw["place_cues"])
        self.departments = PhraseTable.of(raw["departments"])
        self.emergency = PhraseTable.of(raw["emergency"])
        self.medical = PhraseTable.of(raw["medical"])
        self.doses = PhraseTable.of(raw["doses"])
        self.task_artifacts = PhraseTable.of(raw["task_artifacts"])
        self.asked_artifacts = PhraseTable.of(raw["asked_artifacts"])
        self.task_verbs = PhraseTable.of(raw["task_verbs"])
        self.learning = PhraseTable.of(raw["learning"])
        self.secrets = PhraseTable.of(raw["secrets"])
        # Words that never tell two job sheets apart: the conversation's other topics.
        ignored: set[str] = set()
        for table in ("learning", "team", "short", "free", "context_ignored"):
            for phrase in raw[table]:
                ignored.update(normalise_words(str(phrase)))
        for table in ("format", "funding", "certifying"):
            for phrases in raw[table].values():
                for phrase in phrases:
                    ignored.update(normalise_words(str(phrase)))
        self.context_ignored = frozenset(ignored)
        self.activity_ignored = frozenset(
            w for verb in raw.get("activity_ignored_verbs") or [] for w in normalise_words(str(verb))[:1]
        )
        #: a context word's stems -> the title words it stands for
        self.context_equivalents: dict[str, frozenset[str]] = {}
        for word, equivalents in (raw.get("context_equivalents") or {}).items():
            for stem in normalise_words(str(word)):
                self.context_equivalents[stem] = frozenset(
                    w for e in equivalents for w in normalise_words(str(e)) if len(w) > 3
                )


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The vocabulary, loaded once."""
    import yaml

    path = Path(__file__).parent / "lexicon.yaml"
    return Lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))
