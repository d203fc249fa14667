"""One question read once: a ``Reading`` of what it states, built from one spaCy parse.

Small named steps each add to the reading (as in a spaCy pipeline): safety, language, jobs and
whose they are, places, constraints, relative changes, what is let go, who asks. The dialogue
state (``state.py``) turns a reading into explicit operations; nothing downstream reads the raw
text for these again.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..models import DEPARTMENTS, MAX_HOURS, MAX_PRICE
from ..text import fold
from .lexicon import Lexicon, lexicon, normalise_words, stem_words, words_of
from .nlp import english_share, has_function_words, is_common_word, number_value, pipeline, prepare
from .referentials import JobIndex, JobMatch, PlaceIndex

__all__ = ["JobMention", "Reading", "Reader"]

Whose = Literal["self", "learners", "relative", "other", "target", "unspecified"]
Safety = Literal["emergency", "medical", "off_topic", "secrets"]

_ROME_CODE = re.compile(r"^[A-N]\d{4}$")
#: English negations as the folded words split them (« don't » -> « don », « t »)
_ENGLISH_NEGATION = frozenset({"not", "never", "no", "don", "doesn", "didn", "won", "isn", "aren", "cannot"})
# A number glued to its unit, as people type it: « 14h », « 500€ », « 3,5h ».
_GLUED = re.compile(r"^(\d+(?:[.,]\d+)?)(h|€|e|eur|k€)$", re.IGNORECASE)


class JobMention(BaseModel):
    """A job title in the question and the part it plays."""

    role_ids: list[str]
    words: str
    whose: Whose
    negated: bool = False
    fuzzy: bool = False
    #: every sheet the words could name (a job already known among them is kept)
    alternatives: list[str] = Field(default_factory=list)
    #: the nouns of the mention's own sentence (« patron d'un garage, j'ai 3 mécaniciens »)
    near: list[str] = Field(default_factory=list)
    #: after a possessive or a number (« mes boulangers », « 3 vendeuses »): people of the asker's
    owned: bool = False


class Reading(BaseModel):
    """What one question states (empty fields: not stated)."""

    #: the question as read: casual spellings rewritten, numbers as digits
    text: str = ""
    language: Literal["fr", "en"] = "fr"
    #: whether the question's own words say its language (function words of either)
    language_said: bool = True
    #: « une formation pour moi » : the asker is the one to train
    for_myself: bool = False
    #: « c'est pas pour moi, c'est pour ma collègue »: the asker is not the one to train
    not_for_me: bool = False
    #: « laquelle est la plus courte ? »: which of the trainings shown to name (shortest, cheapest)
    pick: Literal["shortest", "cheapest"] | None = None
    #: « ça coûte combien, la formation de Creil ? »: a question on a training's facts
    asks_facts: bool = False
    #: the language the person asks the answer in (« can you explain in English? »), if any
    language_request: Literal["fr", "en"] | None = None
    safety: Safety | None = None
    jobs: list[JobMention] = Field(default_factory=list)
    #: words after a job cue that name no known job (« je suis tourneur-fraiseuse »)
    unknown_job: str | None = None
    departments: list[str] = Field(default_factory=list)
    commune: str | None = None
    #: « plus près de Compiègne »: the place replaces the previous one
    closer: bool = False
    #: a commune name found in several départements, with no postal code to decide
    ambiguous_departments: list[str] = Field(default_factory=list)
    #: the commune of each of those départements (« Montreuil » -> Montreuil-sur-Mer in the 62)
    ambiguous_communes: dict[str, str] = Field(default_factory=dict)
    format: str | None = None
    max_hours: float | None = None
    max_price: float | None = None
    funding: list[str] = Field(default_factory=list)
    funding_dropped: list[str] = Field(default_factory=list)
    certifying: bool | None = None
    #: constraints the question lets go (« peu importe le prix »)
    dropped: list[str] = Field(default_factory=list)
    cheaper: bool = False
    shorter: bool = False
    instead: bool = False
    audience: str | None = None
    situation: str | None = None
    #: « à qui m'adresser ? »: the answer leads with the next step
    asks_next_step: bool = False
    #: a limit stated without a unit (« c'est 800 max »)
    bare_limit: float | None = None
    #: the audience comes only from speaking as an organisation (« on est une asso ») or from
    #: naming people to train: an HR asker already known keeps their role
    audience_weak: bool = False
    #: « je travaille dans la banque »: a sector named instead of a job
    sector_words: str | None = None
    learners_count: int | None = None
    #: the asker's company's headcount (« on est 45 salariés »): who funds turns on it
    company_size: int | None = None
    #: « et à distance ? », « dans l'Oise plutôt »: opens with a continuation or has no verb
    elliptical: bool = False
    #: only thanks or agreement (« merci », « ok super »)
    social: bool = False
    #: the asker speaks of people they train (« mes salariés », « mon équipe »)
    team: bool = False
    correction: bool = False
    #: the stems of the question's nouns and adjectives (the conversation's topic: « boulangerie »)
    nouns: list[str] = Field(default_factory=list)


@dataclass
class _Words:
    """The question's words aligned with spaCy tokens."""

    doc: object
    words: list[str] = field(default_factory=list)
    stems: list[str] = field(default_factory=list)
    token: list[int] = field(default_factory=list)
    #: whether each word was written in capitals (acronyms: « DOS », « IDE »)
    upper: list[bool] = field(default_factory=list)
    #: the question is in English (the French parser reads it poorly)
    english: bool = False

    def tok(self, word_index: int):
        return self.doc[self.token[word_index]]  # type: ignore[index]

    def tokens_before(self, word_index: int, n: int) -> list:
        """The ``n`` spaCy tokens before a word, elided ones (« jusqu' », « l' ») included."""
        doc: Any = self.doc
        end = self.token[word_index]
        return list(doc[max(0, end - n) : end])


class Reader:
    """Reads questions against one knowledge base version's referentials."""

    def __init__(self, roles: dict, places) -> None:
        self.lex: Lexicon = lexicon()
        self.jobs = JobIndex(roles, ambiguous=self.lex.ambiguous_titles, ignored=self.lex.context_ignored)
        self.places = PlaceIndex(places.values() if isinstance(places, dict) else places)

    # -- the pipeline ------------------------------------------------------------------------

    def read(self, question: str) -> Reading:
        lex = self.lex
        # An English question names jobs in English: they are rewritten to the French titles
        # the referential uses (« nurse » -> infirmier), the rest of the question is kept.
        english = english_share([w.lower().strip(".,;:!?") for w in question.split()]) > 0.6
        text = prepare(question, {**lex.casual, **lex.english_jobs} if english else lex.casual)
        doc = pipeline()(text)
        w = _align(doc)
        reading = Reading(text=text)
        reading.language = "en" if english_share([t.lower_ for t in doc]) > 0.6 else "fr"
        # « cheaper options? », « ok merci »: no function word of either language says which
        # it is; the conversation's language stays.
        reading.language_said = has_function_words([t.lower_ for t in doc])
        asked_in = [sorted(labels)[0] for _, _, labels in lex.language_request.find(w.stems)]
        reading.language_request = asked_in[-1] if asked_in else None  # type: ignore[assignment]
        w.english = reading.language == "en"
        reading.safety = self._safety(w)
        # Proper nouns are left out: names of people and places tell nothing of a job.
        # (a clipped word the stemmer cuts short keeps its letters: « méca » begins « mécanique »)
        reading.nouns = list(dict.fromkeys(
            word for word in (
                stem if len(stem) > 3 else w.words[i] for i, stem in enumerate(w.stems) if w.tok(i).pos_ in ("NOUN", "ADJ")
            )
            if len(word) > 3 and word not in lex.context_ignored
        ))
        # « une usine agroalimentaire » says « industrie alimentaire » as the titles write it.
        reading.nouns += [
            e for stem in list(reading.nouns) for e in sorted(lex.context_equivalents.get(stem, ()))
            if e not in reading.nouns
        ]
        self._jobs(w, reading)
        if not reading.jobs and not w.english:
            self._activity(w, reading)
        self._places(w, doc, reading)
        self._constraints(w, reading)
        self._relative_and_dropped(w, reading)
        self._who(w, reading)
        reading.asks_next_step = lex.next_step_questions.contains(w.stems)
        reading.elliptical = any(start == 0 for start, _, _ in lex.continuations.find(w.stems)) or not any(
            t.pos_ in ("VERB", "AUX") for t in doc
        )
        social = {i for start, end, _ in lex.social.find(w.stems) for i in range(start, end)}
        reading.social = bool(w.stems) and len(social) == len(w.stems)
        if not reading.jobs:
            for _, end, _ in lex.sector_cues.find(w.stems):
                start = _skip_articles(w, end)
                # « bosser dans l'IA » names the field of a wish, not the asker's sector.
                if start < len(w.stems) and not _is_function_word(w, start) and w.stems[start] not in lex.context_ignored:
                    reading.sector_words = _span_text(w, start, min(start + 3, len(w.stems)))
                    break
        if reading.audience is None and (reading.sector_words or reading.unknown_job):
            # « je travaille dans la banque »: someone who works there asks for themselves.
            reading.audience = "salarie"
        return reading

    # -- steps -------------------------------------------------------------------------------

    def _safety(self, w: _Words) -> Safety | None:
        lex, stems = self.lex, w.stems
        if lex.emergency.contains(stems):
            return "emergency"
        if lex.secrets.contains(stems):
            return "secrets"
        learning = lex.learning.contains(stems)
        artifacts = {i for start, end, _ in lex.task_artifacts.find(stems) for i in range(start, end)}
        verbs = {i for start, end, _ in lex.task_verbs.find(stems) for i in range(start, end)}
        # « tu peux m'écrire un script ? » asks Orientia; « l'IA peut écrire du code à la place
        # des développeurs ? » asks about AI: a task done by someone else is no request.
        asked_of_us = [i for i in verbs - artifacts if not _done_by_another(w.tok(i))]
        # « écris-moi une lettre pour cette formation »: an order to us stays one, whatever
        # training it is for; otherwise learning (« apprendre à coder ») is no request.
        ordered = any(_addressed_to_us(w.tok(i)) for i in asked_of_us)
        if artifacts and asked_of_us and (ordered or not learning):
            return "off_topic"
        if ordered and lex.asked_artifacts.contains(stems):
            return "off_topic"  # « vous pouvez rédiger la lettre aux parents ? »
        # (« l'IA peut-elle vérifier les doses ? » asks about AI, not for a dose; « je suis
        # préparatrice, je délivre des médicaments » says a job; « mon médecin » is no job said)
        says_job = any(
            m.start == 0 or w.words[m.start - 1] not in ("mon", "ma", "mes", "my")
            for m in self.jobs.find(stems, upper=w.upper, words=w.words)
        )
        if not learning and not _mentions_ai(w) and (lex.doses.contains(stems) or (lex.medical.contains(stems) and not says_job)):
            return "medical"
        return None

    def _jobs(self, w: _Words, reading: Reading) -> None:
        lex, stems = self.lex, w.stems
        nouns = set(reading.nouns)
        # (« je me suis trompé »: a reflexive verb, no « je suis » before a title)
        cues = [c for c in lex.self_job_cues.find(stems) if not (c[0] > 0 and w.words[c[0] - 1] in _REFLEXIVE)]
        # A job cue governs the title right after it (articles skipped): in « je suis patron
        # d'une boulangerie », « boulangerie » is not the asker's job. « Je bosse en caisse »,
        # « je travaille au guichet »: a workplace cue governs a known title the same way.
        cue_ends = {_skip_articles(w, end) for _, end, _ in [*cues, *lex.sector_cues.find(stems)]}
        # « mon poste exact, c'est documentaliste »: the title after the « c'est » that takes the
        # cue up again.
        taken_up: list[int] = []
        for _, end, _ in cues:
            for k in range(end, min(end + 3, len(stems))):
                # (the elided « c' » is no word of its own: the token before « est » says it)
                if w.words[k] == "est" and any(t.text.lower().rstrip("'’") == "c" for t in w.tokens_before(k, 1)):
                    taken_up.append(k + 1)
                    cue_ends.add(_skip_articles(w, k + 1))
                    break
        if reading.language == "en":
            # « I work as a nurse »: the French parser takes « a » for a verb, not an article.
            cue_ends |= {end + 1 for end in list(cue_ends) if end < len(stems) and w.words[end] in ("a", "an", "the")}
        # « je suis intérimaire cariste »: a word qualifying the job stands between cue and title.
        cue_ends |= {end + 1 for end in list(cue_ends) if end < len(stems) and stems[end] in lex.job_modifiers}
        # « agent magasinier », « technicien de maintenance »: a generic word between the cue
        # and the title leaves the title governed by the cue.
        cue_ends |= {end + 1 for end in list(cue_ends) if end < len(stems) and (stems[end],) in lex.ambiguous_titles}
        # A nominal sentence (« conseiller clientèle à la banque, à Arras ») names the job first.
        # (after a greeting: « salut, agent immo à Compiègne »)
        head = next((i for i, stem in enumerate(stems) if stem not in lex.greetings and stem not in lex.openers), len(stems))
        # (a cue further on does not stop it: « traductrice freelance (…, je fais que de l'écrit) »)
        nominal = (
            not any(start <= head for start, _, _ in cues) and head < len(stems) and w.tok(head).pos_ in ("NOUN", "PROPN", "ADJ")
        )
        # « mes 3 vendeuses », « nos agents d'accueil »: the learners' title after a possessive
        # (a known title only: « mon CPF » names no job).
        possessive_ends: set[int] = set()
        #: « l'équipe compta »: a team named by its trade, often clipped
        team_ends: set[int] = set()
        for i, stem in enumerate(stems):
            if lex.team_units.contains(stems[i : i + 1]) and i > 0 and i + 1 < len(stems) and not _is_function_word(w, i + 1):
                team_ends.add(i + 1)
            if stem in lex.possessives:
                j = i + 1
                while j < len(stems) and number_value(w.tok(j)) is not None:
                    count = number_value(w.tok(j)) or 0
                    if 1 < count < 100_000:
                        reading.learners_count = int(count)
                    j += 1
                if j < len(stems) and not _is_function_word(w, j) and not any(a <= j < b for a, b, _ in cues):
                    possessive_ends.add(j)  # (« mon poste, c'est … » is a cue, not a title)
            elif (number_value(w.tok(i)) or 0) >= 2 and i + 1 < len(stems) and not _is_function_word(w, i + 1) and (
                not lex.team.contains(stems[i + 1 : i + 2]) or _qualified(w, i + 1)
            ):
                # « 4 vendeuses », « j'ai 3 mécaniciens »: people counted are people to train.
                possessive_ends.add(i + 1)
        matches = [self.jobs.specialise(m, stems, nouns) for m in self.jobs.find(stems, upper=w.upper, words=w.words)]
        covered = {i for m in matches for i in range(m.start, m.end)}
        # « je bosse à l'accueil », « je fais la paie »: a job named by its field of work;
        # « je suis dans la compta »: a sector names a job only when it clips a sheet's title.
        fields = [(end, True) for _, end, _ in lex.domain_cues.find(stems)]
        fields += [(end, False) for _, end, _ in lex.sector_cues.find(stems) if (end, True) not in fields]
        for end, by_field in fields:
            start = _skip_determiners(w, end)
            if start >= len(stems) or _is_function_word(w, start) or self._verb_negated(w, 0, end):
                continue
            if self._says_who(stems, end - 1, start):
                continue  # « je suis au lycée », « je suis à la retraite »: who asks, not a job
            if start in covered:
                cue_ends.add(start)  # a title said as a field (« je fais la paie »): the cue governs it
                continue
            field_match = self._field(w, start, nouns, ask=False, by_field=by_field)
            if field_match is not None:
                matches.append(field_match)
                covered.add(start)
                cue_ends.add(start)
        # A job cue followed by words naming no exact title: a typo, or a job we do not know.
        # (« nos automates » is a machine, not « automaticien »: no clipped words after a possessive)
        for end in sorted((possessive_ends | team_ends) - {m.start for m in matches}):
            if (lex.team.contains(stems[end : end + 1]) and not _qualified(w, end)) or lex.audience.contains(stems[end : end + 1]):
                continue  # « mes salariés » are the team, not « Salarié agricole »; « mes élèves » no trade
            guess = self.jobs.partial(stems, start=end, clip=end in team_ends, context=nouns)
            if guess is not None and guess.end - guess.start == 1 and not self.jobs.begins_alike(stems[end], w.words[end]):
                continue  # « mes devis » stems like « deviseur »; spelt far from it, it is no title
            # (many sheets begin so: the conversation chooses, or we ask, when the word is a
            # title's own, « mes 2 vendeuses »)
            if guess is not None and (len(guess.role_ids) <= 4 or self.jobs.knows_word(stems[end])):
                matches.append(guess)
        # A title said alone: the whole message (« magasiniere a douai »), or a clause after a
        # comma once the person said where they work (« je bosse en entrepôt, prépa de commandes »).
        starts = [head] if nominal else []
        if fields and not matches:
            starts += [i for i in range(1, len(stems)) if _punct_between(w, i - 1, i) and not _is_function_word(w, i)]
        small = {i for i in range(len(stems)) if _is_function_word(w, i)} if starts else set()
        for start in starts:
            if any(m.start == start for m in matches):
                if nominal and start == head:
                    cue_ends.add(start)  # (« euh non pardon, poissonnier ! »: the title said alone)
                continue
            # Only a beginning of two words or more: one word alone says too little (a title
            # with typos, « prepa de commandes », only over two words or more too).
            guess = self.jobs.partial(stems, start=start, context=nouns)
            if guess is None or guess.end - guess.start < 2:
                guess = self.jobs.fuzzy(stems, start=start, function_words=small) or guess
            if guess is not None and (guess.end - guess.start >= 2 or self.jobs.is_label(stems[guess.start : guess.end])):
                matches.append(guess)
                cue_ends.add(start)
        for end in [end for _, end, _ in cues] + taken_up:
            if 0 < end < len(stems) and _punct_between(w, end - 1, end) and end not in taken_up:
                continue  # « … my job? Copilot writes … »: a cue does not reach past its sentence
            if end < len(stems) and end not in covered and not any(m.start == end for m in matches):
                start = _skip_articles(w, end)
                if reading.language == "en" and start < len(stems) and w.words[start] in ("a", "an", "the"):
                    start += 1  # « I work as a nurse »: the French parser takes « a » for a verb
                # « je suis lycéen », « je suis au chômage »: who asks, not a job.
                if start >= len(stems) or self._says_who(stems, end, start):
                    continue
                if _is_function_word(w, start):
                    continue
                if lex.relations.contains(stems[start : start + 1]):
                    # « je suis responsable » alone is no title; « je suis responsable de la
                    # boutique » is one, an article in it (« Responsable de boutique »).
                    small = {i for i in range(len(stems)) if _is_function_word(w, i)}
                    whole = self.jobs.partial(stems, start=start, context=nouns, function_words=small)
                    if whole is None or whole.end - whole.start < 3:
                        whole = self.jobs.fuzzy(stems, start=start, function_words=small)
                    if whole is not None and whole.end - whole.start >= 3:
                        matches.append(whole)
                    continue
                token = w.tok(start)
                if (
                    start not in covered and "Part" in token.morph.get("VerbForm") and fold(token.lemma_) != fold(token.text)
                    and not self.jobs.knows_word(stems[start])
                ):
                    continue  # « je suis passée à la compta », « je suis intéressé »: a state, no title
                # The beginning of a title over two words or more (« technicien de labo ») says
                # more than a title spelt nearly alike (« technicien de forage »); one word is
                # enough when it is a sheet's own title (« je suis facteur »).
                small = {i for i in range(len(stems)) if _is_function_word(w, i)}
                begun = self.jobs.partial(stems, start=start, context=nouns, function_words=small)
                if begun is not None and begun.end - begun.start < 2 and not self.jobs.is_label(stems[begun.start : begun.end]):
                    begun = None
                nearby = [m for m in matches if end <= m.start <= end + 2]
                if nearby:
                    # « je suis dessinateur industriel »: the longer title read from the cue
                    # wins over a shorter one found inside it (« industriel »).
                    if begun is None or not all(
                        begun.start <= m.start and m.end <= begun.end and m.end - m.start < begun.end - begun.start
                        for m in nearby
                    ):
                        continue
                    matches = [m for m in matches if m not in nearby]
                guess = (
                    begun or self._field(w, start, nouns, ask=True)
                    or self.jobs.fuzzy(stems, start=start, function_words=small)
                    or self.jobs.partial(stems, start=start, context=nouns, function_words=small)
                )
                if (
                    guess is not None and guess.end - guess.start == 1 and len(guess.alternatives) == 1
                    and not self.jobs.is_label(stems[guess.start : guess.end])
                ):
                    # One word that begins a single sheet's longer title names no job alone
                    # (« je suis preneuse » is not « preneuse de son »); a word heading many
                    # titles (« je suis technicien ») still asks which.
                    guess = None
                if reading.language == "en" and (guess is None or guess.end - guess.start < 2):
                    # « I work as a medical lab technician in Lille »: the referential is French.
                    start += w.words[start] in ("a", "an", "the")
                    stop = start
                    while stop < len(stems) and stop - start < 5 and not _is_function_word(w, stop):
                        stop += 1
                    guess = self.jobs.cognates(stems, start=start, end=stop) or guess
                if guess is not None:
                    matches.append(guess)
                elif not (w.tok(start).pos_ == "PROPN" and w.tok(start).text[:1].isupper()):
                    # (« je suis Kévin Dufour »: a name, never asked about nor stored)
                    # The words that say the job: up to the end of the clause (« le ménage dans des
                    # bureaux »), places and trailing small words left out, six words at most.
                    stop = start + 1
                    while stop < min(start + 6, len(stems)) and not _punct_between(w, stop - 1, stop) and w.tok(stop).pos_ != "PROPN":
                        stop += 1
                    while stop > start + 1 and (_is_function_word(w, stop - 1) or w.tok(stop - 1).pos_ == "ADP"):
                        stop -= 1
                    reading.unknown_job = _span_text(w, start, stop)
        # A title inside a longer one read at the same place (« industrielle » in « dessinatrice
        # industrielle ») is part of it.
        matches = [
            m for m in matches
            if not any(o is not m and o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start for o in matches)
        ]
        own_ends: set[int] = set()
        for match in sorted(matches, key=lambda m: m.start):
            key = tuple(stems[match.start : match.end])
            near_cue = match.start in cue_ends
            whose = self._whose(w, match.start, match.end, near_cue)
            if whose is None:
                continue
            if whose == "unspecified" and match.start in own_ends:
                # « technicienne de labo contrôle qualité »: words going on from the asker's own
                # title qualify it; they name no second job.
                continue
            if key in lex.ambiguous_titles and not near_cue and whose in ("unspecified",):
                continue
            if lex.relations.contains(key) and whose in ("other", "unspecified"):
                continue
            if (
                match.end - match.start == 1 and not near_cue and match.start > 0 and not w.english
                and w.tok(match.start).pos_ in ("VERB", "AUX", "ADV", "ADP")
            ):
                continue
            if whose == "self":
                own_ends.add(match.end)
            reading.jobs.append(JobMention(
                role_ids=match.role_ids, words=_span_text(w, match.start, match.end),
                whose=whose, negated=self._negated(w, match.start, match.end), fuzzy=match.fuzzy,
                alternatives=match.alternatives, near=self._sentence_nouns(w, match.start, reading.nouns),
                owned=match.start in possessive_ends,
            ))

    def _says_who(self, stems: list[str], cue_end: int, start: int) -> bool:
        """Whether the words from a cue's end to ``start`` begin a saying of who asks or of
        their situation (« au lycée », « au chômage », « lycéen »), not a job."""
        window = stems[cue_end : start + 3]
        return any(
            found <= start - cue_end
            for table in (self.lex.audience, self.lex.situation) for found, _, _ in table.find(window)
        )

    def _field(self, w: _Words, start: int, nouns: set[str], *, ask: bool, by_field: bool = True) -> JobMatch | None:
        """The job named by the field of work at ``start`` (« taxi », « accueil », « compta »)."""
        stems = w.stems
        if _is_function_word(w, start):
            return None
        # A sheet's title clipped (« compta » for Comptable) first, then the titles ending on it.
        found = self.jobs.clipped_title(stems[start]) or (self.jobs.by_domain(stems[start], nouns, ask=ask) if by_field else None)
        if found is None:
            return None
        return JobMatch(start, start + 1, found.role_ids, found.words, fuzzy=True, score=0.0, alternatives=found.alternatives)

    def _activity(self, w: _Words, reading: Reading) -> None:
        """« je conduis des bus à Amiens »: a job said by what the person does, not its title."""
        doc: Any = w.doc
        for i in range(len(w.stems)):
            tok = w.tok(i)
            if tok.pos_ != "VERB":
                continue
            children = list(tok.children)
            if not any(c.dep_.startswith("nsubj") and fold(c.text) in ("je", "j'", "j") for c in children):
                continue
            if any(fold(c.text) in ("me", "m'", "m") for c in children):
                continue  # « je me forme », « je m'occupe de… »: no doer's title
            verb = normalise_words(tok.lemma_)
            if not verb or verb[0] in self.lex.activity_ignored or self._verb_negated(w, i, i + 1):
                continue
            objects = [c for c in children if c.dep_ in ("obj", "obl:arg", "obl:mod", "obl")]
            # What is done, short words too (« des bus »), and the question's other nouns.
            done = {s for c in objects for t in c.subtree if t.pos_ == "NOUN" for s in normalise_words(t.text)}
            match = self.jobs.by_activity(verb[0], done | set(reading.nouns))
            if match is None:
                continue
            last = max((c.right_edge.i for c in objects[:1]), default=tok.i)
            words = " ".join(t.text for t in doc[tok.i : last + 1])
            reading.jobs.append(JobMention(
                role_ids=match.role_ids, words=words, whose="self", fuzzy=True,
                alternatives=match.alternatives, near=self._sentence_nouns(w, i, reading.nouns),
            ))
            reading.unknown_job = None
            return

    @staticmethod
    def _sentence_nouns(w: _Words, start: int, nouns: list[str]) -> list[str]:
        """The nouns between the full stops around a word (the parser's own sentences cut at
        commas too often in casual writing)."""
        doc: Any = w.doc

        def sentence(i: int) -> int:
            return sum(1 for k in range(w.token[i]) if doc[k].text in (".", "!", "?", "\n"))

        here = sentence(start)
        return [s for i, s in enumerate(w.stems) if s in nouns and sentence(i) == here]

    def _whose(self, w: _Words, start: int, end: int, near_cue: bool) -> Whose | None:
        """Whose job a title is: the asker's, the learners', someone mentioned, or a wish."""
        lex = self.lex
        before = w.stems[max(0, start - 4) : start]
        head = _phrase_head(w, start, end)
        own_possessive = any(fold(c.text) in {"mon", "ma", "mes", "notre", "nos"} for c in head.children)
        if near_cue and not own_possessive:
            # « mon poste c'est contrôleuse de gestion »: the cue governs the title; its
            # possessive belongs to the cue, not to the title.
            return "self"
        # (« mon voisin il est éleveur »: the subject taken up by a pronoun)
        restated = len(before) >= 4 and before[-2] in ("il", "elle", "he", "she") and before[-4] in lex.possessives
        possessed = any(s in lex.possessives for s in before[-3:]) or own_possessive or restated
        numbered = any(c.dep_ == "nummod" and (number_value(c) or 0) >= 2 for c in head.children) or (
            start > 0 and (number_value(w.tok(start - 1)) or 0) >= 2
        )
        # « mes mécanos »: a plural possessive says the plural the parser may not know.
        plural = "Plur" in head.morph.get("Number") or any(x in ("mes", "nos") for x in w.words[max(0, start - 2) : start])
        window = w.words[max(0, start - 3) : start]
        if "moi" in window and "est" in window[: window.index("moi")]:
            return "self"  # « c'est moi le chauffeur »
        if "nous" in window[-3:] and not lex.learners_cues.contains(before[-1:]):
            return "self"  # « pour nous les routiers »: the asker is one of them
        if lex.become.contains(before[-2:]) or lex.studying_for.contains(before[-2:]):
            return "target"
        if possessed:
            if plural or numbered or lex.learners_cues.contains(before):
                return "learners"
            if lex.family.contains(before[-4:]) and (lex.learning.contains(w.stems) or lex.for_them.contains(w.stems)):
                # « mon mari est routier, il peut se former ? »: a relative the asker asks for
                return "relative"
            return "other"
        if numbered or (plural and lex.learners_cues.contains(before)):
            return "learners"
        if near_cue:
            return "self"
        if lex.team.contains(before[-1:]):  # « l'équipe comptable »
            return "learners"
        if start <= 1:
            return "self"
        if end - start == 1 and _ROME_CODE.match(w.words[start].upper()):
            return "unspecified"  # « fiche ROME M1805 »
        if lex.learners_cues.contains(before[-2:]):
            return "unspecified"  # « pour un comptable », « former des caristes »
        # A title in passing (« remplacer l'accueil ») is no job; a full title (two words or
        # more) names one.
        return "unspecified" if end - start >= 2 else None

    def _negated(self, w: _Words, start: int, end: int) -> bool:
        """Whether a negation governs the title: on its phrase head or a verb above it, in the
        same stretch of text (a comma or a full stop ends a negation's reach)."""
        negation = self.lex.negation
        doc = w.doc
        first = w.token[start]

        def same_stretch(i: int) -> bool:
            low, high = sorted((i, first))
            return not any(doc[k].is_punct for k in range(low, high))  # type: ignore[index]

        node = _phrase_head(w, start, end)
        for _ in range(4):
            if any(c.dep_.startswith("advmod") and fold(c.text) in negation and same_stretch(c.i) for c in node.children):
                return True
            if node.head is node or node.pos_ == "AUX":
                break
            node = node.head
        # « pas développeur », « plutôt que développeur »
        before = w.words[max(0, start - 2) : start]
        if any(b in negation for b in before) or before == ["plutot", "que"]:
            return True
        # English, which the French parser reads poorly: « I don't want to become a developer »
        return w.english and any(b in _ENGLISH_NEGATION for b in _same_stretch_before(w, start, 6))

    def _verb_negated(self, w: _Words, start: int, end: int) -> bool:
        """Whether a negation bears on a word itself or on the verb that governs it and comes
        after it, in the same stretch of text (« la visio je supporte pas »; not « en présentiel
        pas loin », where the negation bears on « loin », nor « je peux pas me déplacer donc à
        distance », where the refused verb comes first and the format is the way out)."""
        negation = self.lex.negation
        first = w.token[start]
        doc: Any = w.doc
        node = _phrase_head(w, start, end)
        for _ in range(4):
            if node.i == first or (node.pos_ in ("VERB", "AUX") and node.i > first):
                low, high = sorted((node.i, first))
                if not any(doc[k].is_punct for k in range(low, high)) and any(
                    c.dep_.startswith("advmod") and fold(c.text) in negation for c in node.children
                ):
                    return True
                if node.pos_ in ("VERB", "AUX"):
                    return False
            if node.head is node:
                return False
            node = node.head
        return False

    def _places(self, w: _Words, doc, reading: Reading) -> None:
        lex = self.lex
        cue_ends = {end for _, end, _ in lex.place_cues.find(w.stems)}
        closer = lex.closer.find(w.stems)
        reading.closer = bool(closer)
        cue_ends |= {end for _, end, _ in closer}
        entities = {t.i for ent in doc.ents if ent.label_ in ("LOC", "GPE") for t in ent}
        departments: list[str] = []
        # Postal codes decide between communes of the same name.
        for word in w.words:
            if len(word) == 5 and word.isdigit() and word[:2] in DEPARTMENTS:
                departments.append(word[:2])
        for i, word in enumerate(w.words):
            if len(word) == 2 and word in DEPARTMENTS and _department_number(w, i):
                departments.append(word)
        for start, end, labels in lex.departments.find(w.stems):
            single = end - start == 1
            if single and not (w.tok(start).text[:1].isupper() or start in cue_ends or w.words[start].isdigit()):
                continue
            departments.extend(sorted(labels))
        named: list[str] = []
        for match in self.places.find(w.words):
            token = w.tok(match.start)
            cued = match.start in cue_ends
            # Typed in lower case, a one-word name after « à » is a place unless it is an
            # everyday word (« a arques », « a peronne », but « a long terme »).
            # « électricien à Avion, … »: a common word right after « à » and closing its clause
            # (no article, nothing after) is the commune's name.
            bare = (
                match.start > 0 and w.words[match.start - 1] in ("a", "à")
                and (match.end == len(w.words) or _punct_between(w, match.end - 1, match.end))
            )
            proper = (
                token.text[:1].isupper() or token.is_oov or match.end - match.start > 1
                or not is_common_word(w.words[match.start]) or bare
            )
            if not ((cued and proper) or token.i in entities or match.population >= 20000):
                continue
            if len(match.departments) == 1:
                named.append(match.departments[0])
                reading.commune = match.commune
            elif not departments:
                # One name, several communes (« Dury »): a postal code decides, else we ask.
                reading.commune = _span_text(w, match.start, match.end).title()
                reading.ambiguous_departments = list(match.departments)
                reading.ambiguous_communes = {
                    d: name for name, d in sorted(zip(match.names, match.departments_of, strict=True), key=lambda x: x[1])
                }
        # Several places named (« je suis à Lille mais plutôt vers Lens »): the last one counts.
        departments.extend(named[-1:])
        reading.departments = list(dict.fromkeys(departments))

    def _constraints(self, w: _Words, reading: Reading) -> None:
        lex, stems = self.lex, w.stems
        stated: list[str] = []
        refused: set[str] = set()
        for start, end, labels in lex.format.find(stems):
            value = sorted(labels)[0]
            if value == "distanciel" and lex.closer.contains(stems[max(0, start - 2) : start + 1]):
                continue  # « près de chez moi »: a place near home, not learning from home
            # « j'ai pas de voiture. à distance c'est mieux »: a negation ends with its sentence.
            if _negation_just_before(w, start, lex.negation | {"sans"}):
                value = {"distanciel": "présentiel", "présentiel": "distanciel"}.get(value, value)
            elif self._verb_negated(w, start, end):
                # « la visio je supporte pas »: a format refused is no wish for it
                refused.add(value)
                continue
            stated.append(value)
        if stated:
            reading.format = stated[-1]
        elif refused == {"distanciel"} or refused == {"présentiel"}:
            reading.format = "présentiel" if refused == {"distanciel"} else "distanciel"
        weak_drop = {"sans", "pas"}
        # « c'est quoi notre OPCO ? », « le CPF c'est quoi ? »: a route asked about is no wish.
        asked = [(a, b) for a, b, _ in lex.what_is.find(stems)]
        # « c'est l'OPCO santé qui paie ou l'ANFH ? »: a choice asked between two is no wish.
        choice = _ends_with_question_mark(w) and ("ou" in w.words or "or" in w.words)
        # « c'est l'OPCO qui paie ? », « l'OPCO peut financer ? »: the route before a payment verb
        # in a question is asked about, not wanted (« c'est mon employeur qui paie. » states it).
        question = _ends_with_question_mark(w)
        payments = {start for start, _, _ in lex.payment.find(stems)}

        def asked_payer(end: int) -> bool:
            while end < len(stems) and stems[end] in lex.payer_question_links:
                end += 1
            return question and end in payments

        asked_routes = False
        # « inscrit à France Travail » says the asker's situation, not how they want to pay
        situated = {i for a, b, _ in lex.situation.find(stems) for i in range(a, b)}
        for start, end, labels in lex.funding.find(stems):
            if any(0 <= start - b <= 3 or 0 <= a - end <= 1 for a, b in asked):
                continue
            if situated & set(range(start, end)):
                continue
            said = " ".join(w.words[start:end])
            if any(said in " ".join(words_of(j.words)) for j in reading.jobs):
                continue  # « conseiller France Travail » is a job title, not a funding route
            if asked_payer(end):
                asked_routes = True
                continue
            if choice and any(x in ("ou", "or") for x in w.words[max(0, start - 6) : end + 6]):
                continue
            dropped = any(b in weak_drop for b in w.words[max(0, start - 3) : start])
            (reading.funding_dropped if dropped else reading.funding).extend(sorted(labels))
        asks_who_pays = lex.funding_questions.contains(stems) or any(
            # (« et qui paye la formation ? », « bon, qui finance ? »)
            all(x in _OPENING_FILLERS for x in w.words[:start]) for start, _, _ in lex.funding_question_starts.find(stems)
        ) or ("comment" in w.words and _ends_with_question_mark(w))
        # (« et ça se finance comment à l'hôpital ? » asks; it states no payer)
        if lex.payment.contains(stems) and not asks_who_pays and not choice and not asked_routes:
            for start, _, labels in lex.payers.find(stems):
                # « no employer to pay for it », « pas d'employeur pour payer »
                if any(b in lex.negation or b == "sans" for b in w.words[max(0, start - 2) : start]):
                    continue
                reading.funding.extend(sorted(labels))
        reading.funding = list(dict.fromkeys(f for f in reading.funding if f not in reading.funding_dropped))
        # « c'est quoi la différence entre RNCP et RS ? », « un bloc, c'est quoi ? on m'en parle pour
        # une certif »: a certification asked about is no wish for a certifying training.
        defining = bool(asked) and not lex.learning.contains(stems)
        for start, end, _ in lex.certifying.find(stems):
            if defining and not w.words[start].startswith("certifiant"):
                continue  # (« un truc certifiant ? » still asks for a certifying training)
            before = w.words[max(0, start - 4) : start]
            if end - start == 1 and w.words[start].startswith("diplome") and "sans" in w.words[max(0, start - 2) : start]:
                continue  # « c'est possible sans diplôme ? »: the asker's own degree, not the training's
            reading.certifying = not any(b in weak_drop or b in lex.negation or b == "non" for b in before)
        if lex.free.contains(stems):
            reading.max_price = 0.0
        self._numbers(w, reading)
        if reading.max_hours is None and not lex.shorter.contains(stems):
            for start, _, _ in lex.short.find(stems):
                if w.tok(start).pos_ == "ADJ" or start > 0:
                    reading.max_hours = lex.short_hours

    def _numbers(self, w: _Words, reading: Reading) -> None:
        lex = self.lex
        strength: dict[str, int] = {}
        # « en 3e », « stage de 3e »: a school year, not 3 euros
        school = {i for start, end, _ in lex.audience.find(w.stems) for i in range(start, end)}
        for i, word in enumerate(w.words):
            if i in school:
                continue
            token = w.tok(i)
            glued = _GLUED.match(token.text)
            value = float(glued.group(1).replace(",", ".")) if glued else number_value(token)
            if value is None or value != value or value in (float("inf"), float("-inf")):
                continue
            if glued:
                unit = stem_words([glued.group(2).lower().replace("k€", "€")])[0]
                if glued.group(2).lower() == "k€":
                    value *= 1000
            elif i + 1 < len(w.stems):
                unit = w.stems[i + 1]
                if (
                    unit not in lex.hour_units and i + 2 < len(w.stems) and w.tok(i + 1).pos_ == "ADJ"
                    and w.stems[i + 2] in lex.hour_units
                ):
                    unit = w.stems[i + 2]  # « une seule journée », « 2 petites heures »
            else:
                unit = ""
            before = w.stems[max(0, i - 3) : i]
            previous = w.words[max(0, i - 3) : i]
            minimum = (previous[-2:] == ["plus", "de"] and "pas" not in previous) or previous[-2:] == ["au", "moins"] or "minimum" in previous
            if lex.elapsed.contains(before):
                continue  # « au chômage depuis 6 mois »: time gone by, no limit on a training
            if value == 1 and not word.isdigit() and unit in lex.hour_units and (
                before[-1:] and before[-1] in lex.someday_before
                or (i + 2 < len(w.words) and w.words[i + 2] in lex.someday_after)
            ):
                continue  # « si un jour je veux bosser dans l'IA »: someday, not a day's training
            strong = 2 if lex.at_most_strong.contains(before) or (
                i + 2 < len(w.stems) and lex.at_most_strong.contains(w.stems[i + 2 : i + 3])
            ) else 1
            if unit in lex.hour_units and not minimum:
                # Beyond the profile's bounds ("moins de 10^400 heures"): no real limit, none kept.
                hours = value * lex.hour_units[unit]
                if not (word.isdigit() and len(word) == 4 and unit == "h") and strong >= strength.get("hours", 0) and 0 < hours <= MAX_HOURS:
                    reading.max_hours = hours
                    strength["hours"] = strong
            elif unit in lex.euro_units and not minimum and strong >= strength.get("price", 0):
                if 0 <= value <= MAX_PRICE:
                    reading.max_price = value
                    strength["price"] = strong
            elif lex.at_most.contains(before[-1:]) and before[-1:] == ("budget",):
                if 0 <= value <= MAX_PRICE:
                    reading.max_price = value
            elif self._headcount(w, i):
                if 1 <= value < 1_000_000:
                    reading.company_size = int(value)
            elif i + 1 < len(w.stems) and (lex.team.contains(w.stems[i + 1 : i + 2]) or self.jobs.find(w.stems[i + 1 : i + 4])):
                if 1 < value < 10000:
                    reading.learners_count = int(value)
            elif not minimum and value >= 1 and (
                # « jusqu'à 1300 »: the elided « jusqu' » is not among the words
                any(t.lower_.startswith("jusqu") for t in w.tokens_before(i, 2))
                or lex.at_most_strong.contains(w.stems[i + 1 : i + 2])
                or any(end == len(before) and end - start >= 2 for start, end, _ in lex.at_most_strong.find(before))
            ):
                reading.bare_limit = value  # « 800 max »: which limit, the conversation says

    def _headcount(self, w: _Words, i: int) -> bool:
        """Whether the number at ``i`` counts the asker's company (« on est 45 salariés », « une
        PME de 120 personnes », « we're about 120 employees », « on est que 3 dans la boîte »),
        not people to train (« mes 3 commerciaux »)."""
        lex, stems = self.lex, w.stems
        counted = stems[i + 1 : i + 2]
        ends = any(start == 0 for start, _, _ in lex.headcount_ends.find(stems[i + 1 : i + 5]))
        if counted and not lex.headcount.contains(counted) and not ends:
            return False  # « on est 3 comptables », « on est 2 à vouloir »: people counted
        we = any(i - 3 <= end <= i for _, end, _ in lex.we_are.find(stems))
        organisation = i >= 2 and stems[i - 1] in lex.headcount_links and lex.organisations.contains(stems[i - 2 : i - 1])
        return we or organisation

    def _relative_and_dropped(self, w: _Words, reading: Reading) -> None:
        lex, stems = self.lex, w.stems
        mine = lex.for_myself.find(stems)
        reading.for_myself = any(  # (« c'est pour elles, pas pour moi » is not)
            not _negation_just_before(w, start, lex.negation) for start, _, _ in mine
        )
        reading.not_for_me = any(_negation_just_before(w, start, lex.negation) for start, _, _ in mine)
        picked = lex.pick.find(stems)
        reading.pick = sorted(picked[-1][2])[0] if picked else None  # type: ignore[assignment]
        reading.asks_facts = lex.facts_questions.contains(stems) and _ends_with_question_mark(w)
        reading.cheaper = lex.cheaper.contains(stems) and not picked
        reading.shorter = lex.shorter.contains(stems) and not picked
        reading.instead = lex.instead.contains(stems)
        reading.correction = bool(lex.correction.find(stems[:2])) or (
            "moi" in w.words and "est" in w.words and any(j.whose == "self" for j in reading.jobs)
        )
        strong = [c for c in lex.drop_cues.find(stems) if not ({"sans", "pas de", "pas besoin"} & c[2])]
        for start, end, _ in strong:
            # « ok pas grave. et en distanciel ? »: what is let go is in the cue's sentence.
            low, high = _stretch(w, start, end, before=3, after=5, stop=lex.contrast)
            window = stems[low:high]
            formats = lex.format.find(window)
            # « ok à distance alors, c'est pas grave »: a format stated before the cue is the
            # new choice it agrees to (and its « distance » is no place).
            chosen = reading.format is not None and all(low + end <= start for _, end, _ in formats)
            in_format = {i for a, b, _ in formats for i in range(a, b)}
            for a, b, fields in lex.drop_fields.find(window):
                if not in_format & set(range(a, b)):
                    reading.dropped.extend(sorted(fields))
            if reading.departments and any(
                (label in reading.departments) for _, _, labels in lex.departments.find(window) for label in labels
            ):
                # « pas grave si c'est pas dans l'Aisne, du moment que c'est à distance »
                reading.dropped.append("department")
                reading.departments, reading.commune = [], None
            for _, _, codes in lex.funding.find(window):
                reading.funding_dropped.extend(sorted(codes))
                reading.funding = [f for f in reading.funding if f not in codes]
            if formats and not chosen:
                reading.dropped.append("format")
                reading.format = None
            if lex.certifying.find(window):
                reading.dropped.append("certifying")
                reading.certifying = None
        if lex.anywhere.contains(stems) and not reading.departments:
            reading.dropped.append("department")
        longer = any(
            w.words[start] in ("plus", "longer") or (start > 0 and w.words[start - 1] == "plus")
            for start, _, _ in lex.longer.find(stems)  # (the table's « plus » is a function word)
        )
        if longer and reading.max_hours is None and not reading.shorter:
            reading.dropped.append("max_hours")
        reading.dropped = list(dict.fromkeys(reading.dropped))
        reading.funding_dropped = list(dict.fromkeys(reading.funding_dropped))

    def _who(self, w: _Words, reading: Reading) -> None:
        lex, stems = self.lex, w.stems
        # « mes élèves », « nos étudiants »: the asker teaches them; they are not who asks.
        found = {
            label for start, _, labels in lex.audience.find(stems)
            if not (start > 0 and stems[start - 1] in lex.possessives and stems[start - 1] not in ("mon", "ma", "my"))
            for label in labels
        }
        if any(j.whose == "self" and not j.negated and all(r[:3] == "K21" for r in j.role_ids) for j in reading.jobs):
            # A school's staff (« prof de maths au collège », a CPE) speak of the school as
            # their workplace: the job says who asks (ROME K21: teaching and training).
            found.discard("eleve")
        we_end = {_skip_articles(w, end) for _, end, _ in lex.we_are.find(stems)}
        # « on est une PME de 20 personnes »: the company asks (unless someone known asks for it).
        organisation = any(start in we_end for start, _, _ in lex.organisations.find(stems))
        for start, _, labels in lex.situation.find(stems):
            if start > 0 and w.words[start - 1] in _PLURAL_DETERMINERS:
                continue  # « les demandeurs d'emploi que j'accompagne » are others
            reading.situation = sorted(labels)[0]
        teams = lex.team.find(stems)
        reading.team = any(
            any(s in lex.possessives for s in stems[max(0, start - 3) : start])
            or lex.learners_cues.contains(stems[max(0, start - 3) : start])
            for start, _, _ in teams
        ) or any(j.whose == "learners" for j in reading.jobs)
        for start, _, _ in teams:
            if start > 0 and number_value(w.tok(start - 1)) is not None and not self._headcount(w, start - 1):
                reading.learners_count = int(number_value(w.tok(start - 1)) or 0) or None
        for audience in ("eleve", "rh", "entreprise"):
            if audience in found:
                reading.audience = audience
                break
        else:
            # « je voudrais former mes deux préparatrices »: whoever trains their own staff asks
            # as the company, whatever their own job.
            learners = any(j.whose == "learners" and not j.negated for j in reading.jobs)
            if reading.team and (learners or not any(j.whose == "self" and not j.negated for j in reading.jobs)):
                # Weak: an HR manager asking next « et pour les infirmières du service ? »
                # still asks as HR.
                reading.audience, reading.audience_weak = "entreprise", True
            elif any(j.whose == "self" and not j.negated for j in reading.jobs) or reading.situation:
                reading.audience = "salarie"
        if reading.audience is None and organisation:
            reading.audience, reading.audience_weak = "entreprise", True
        if reading.situation == "eleve":
            reading.audience = "eleve"


# -- helpers ---------------------------------------------------------------------------------


def _align(doc) -> _Words:
    w = _Words(doc=doc)
    for token in doc:
        if token.is_punct or token.is_space:
            continue
        for word in words_of(token.text):
            w.words.append(word)
            w.token.append(token.i)
            w.upper.append(len(token.text) > 1 and token.text.isupper())
    w.stems = list(stem_words(w.words))
    return w


def _phrase_head(w: _Words, start: int, end: int):
    """The token of a word span whose head lies outside the span."""
    tokens = {w.token[i] for i in range(start, end)}
    for i in sorted(tokens):
        token = w.doc[i]  # type: ignore[index]
        if token.head.i not in tokens or token.head.i == token.i:
            return token
    return w.doc[w.token[start]]  # type: ignore[index]


def _span_text(w: _Words, start: int, end: int) -> str:
    """The words of a span as the person wrote them (accents kept)."""
    doc = w.doc
    first, last = doc[w.token[start]], doc[w.token[end - 1]]  # type: ignore[index]
    return doc[first.i : last.i + 1].text  # type: ignore[index]


def _ends_with_question_mark(w: _Words) -> bool:
    doc: Any = w.doc
    return len(doc) > 0 and doc[len(doc) - 1].text == "?"


def _stretch(
    w: _Words, start: int, end: int, *, before: int, after: int, stop: AbstractSet[str] = frozenset(),
) -> tuple[int, int]:
    """Word bounds around ``[start, end)``, at most ``before``/``after`` words, not crossing
    punctuation nor a word of ``stop`` (« mais »)."""
    doc = w.doc

    def punct_between(a: int, b: int) -> bool:
        return any(doc[k].is_punct for k in range(w.token[a] + 1, w.token[b]))  # type: ignore[index]

    low = start
    while low > 0 and start - low < before and not punct_between(low - 1, low) and w.words[low - 1] not in stop:
        low -= 1
    high = end
    while high < len(w.words) and high - end < after and not punct_between(high - 1, high) and w.words[high] not in stop:
        high += 1
    return low, high


def _same_stretch_before(w: _Words, index: int, n: int) -> list[str]:
    """The ``n`` words before ``index`` that are in the same stretch of text (no punctuation
    between them and ``index``)."""
    doc = w.doc
    out: list[str] = []
    for j in range(index - 1, max(-1, index - 1 - n), -1):
        if any(doc[k].is_punct for k in range(w.token[j] + 1, w.token[j + 1])):  # type: ignore[index]
            break
        out.insert(0, w.words[j])
    return out


def _punct_between(w: _Words, a: int, b: int) -> bool:
    """Whether punctuation stands between words ``a`` and ``b`` (word indexes, a < b)."""
    doc: Any = w.doc
    return any(doc[k].is_punct for k in range(w.token[a] + 1, w.token[b]))


def _negation_just_before(w: _Words, index: int, negation: set[str]) -> bool:
    """Whether a negation comes right before ``index``, with only prepositions, articles or
    adverbs between (« pas de distanciel », « surtout pas en visio », « sans présentiel »), in the
    same stretch of text; not the negation of another verb (« je peux pas me déplacer donc à
    distance »)."""
    before = _same_stretch_before(w, index, 4)
    for offset, word in enumerate(reversed(before), start=1):
        if word in negation:
            return True
        if w.tok(index - offset).pos_ not in ("ADP", "DET", "ADV"):
            return False
    return False


def _skip_articles(w: _Words, start: int) -> int:
    # « au », « aux » are « à le », « à les »: the article is in them.
    while start < len(w.words) and (w.tok(start).pos_ == "DET" or w.words[start] in ("au", "aux")):
        start += 1
    return start


#: words that may open a question before its question word (« et qui paie ? », « bon alors, qui finance ? »)
_REFLEXIVE = frozenset("me m te t se s".split())
_PLURAL_DETERMINERS = frozenset("les des aux ces mes nos vos leurs".split())
_OPENING_FILLERS = frozenset("et mais bon ok alors du coup donc sinon and so".split())

_TO_US = frozenset({"tu", "vous", "you", "toi", "je", "j'", "j", "moi", "me", "m'", "i", "on", "nous"})


def _done_by_another(token) -> bool:
    """Whether a verb's subject (or the subject of the verb it completes: « l'IA peut
    écrire ») is something named other than the asker and Orientia."""
    if _addressed_to_us(token):
        return False  # (« écris-moi » asks us; the parser may misplace « tu » in « wsh tu peux… »)
    for verb in (token, token.head):
        # (a sentence that opens on the verb is an order: « Résous l'équation… », where the
        # parser may take the object for a subject)
        subjects = [c for c in verb.children if c.dep_.startswith("nsubj") and not (verb.is_sent_start and c.i > verb.i)]
        if subjects:
            # Something named does it (« l'IA », « ChatGPT », « les robots »); a pronoun is
            # the asker, Orientia or a clause's « qui ».
            return all(
                any(t.pos_ in ("NOUN", "PROPN") for t in s.subtree) and not any(fold(t.text) in _TO_US for t in s.subtree)
                for s in subjects
            )
    return False


def _addressed_to_us(token) -> bool:
    """Whether a verb is an order or a request to Orientia (« écris-moi », « tu peux écrire »)."""
    if "Imp" in token.morph.get("Mood"):
        return True
    return any(
        fold(c.text).lstrip("-") in ("tu", "vous", "moi", "nous", "you") for verb in (token, token.head) for c in verb.children
    )


def _mentions_ai(w: _Words) -> bool:
    """Whether a question speaks of AI (« IA », « AI » in capitals, « intelligence artificielle »)."""
    words = w.words
    return any(x == "ia" for x in words) or "AI" in str(w.doc).split() or "intelligence" in words


def _skip_determiners(w: _Words, start: int) -> int:
    """Past the articles and partitives before a noun (« de la paie », « du standard »)."""
    while start < len(w.words) and (w.tok(start).pos_ == "DET" or w.words[start] in ("au", "aux", "du", "des", "de", "d'", "d")):
        start += 1
    return start


def _qualified(w: _Words, index: int) -> bool:
    """« agents des espaces verts », « agents d'accueil »: a staff word heading a title (« de »
    and a noun after it), not the staff in general (« mes agents »)."""
    from .lexicon import lexicon

    if not lexicon().team_titles.contains(w.stems[index : index + 1]):
        return False  # « salariés de production » are staff
    return (
        index + 2 < len(w.words) and w.words[index + 1] in ("de", "des", "du", "d")
        and w.tok(index + 2).pos_ in ("NOUN", "PROPN", "ADJ")
    ) or (index + 3 < len(w.words) and w.words[index + 1] in ("de", "d") and w.words[index + 2] in ("la", "l", "les"))


def _is_function_word(w: _Words, index: int) -> bool:
    return w.tok(index).pos_ in ("ADP", "DET", "PRON", "AUX", "ADV", "CCONJ", "SCONJ", "PUNCT", "NUM")


def _department_number(w: _Words, index: int) -> bool:
    """« dans le 62 », « (59) »: a département number, not a duration or a price."""
    token = w.tok(index)
    after = w.words[index + 1] if index + 1 < len(w.words) else ""
    if after and (after in ("h", "heures", "heure", "euros", "euro", "e", "ans", "km", "%") or after.startswith("jour")):
        return False
    before = w.words[max(0, index - 2) : index]
    doc = w.doc
    bracketed = token.i > 0 and doc[token.i - 1].text == "("  # type: ignore[index]
    return bracketed or bool({"le", "dans", "du", "departement", "dept"} & set(before))
