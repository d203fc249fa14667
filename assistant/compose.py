"""Grounded French answers: extractive sentences from the sources, each with a numbered citation.

The writer never states what no passage says: every factual sentence ends with ``[n]``, ``n``
pointing at ``citations[n-1]``, and only cited passages are returned. Its phrases live in
``templates/phrases.yaml``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from .index import KnowledgeBase
from .models import Chunk, Citation, Profile
from .recommend import Recommendation, mentioned_codes
from .retrieval import Hit
from .scope import is_injection
from .text import de_job, fold, plain

__all__ = ["AnswerWriter", "Draft", "GroundedWriter", "WriterInput", "phrases", "citation_markers"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«A-ZÀÂÉÈÊÎÔÛÇ0-9])")
_WORD = re.compile(r"\w{3,}")
_MARKER = re.compile(r"\[(\d+)\]")


@lru_cache(maxsize=2)
def phrases(language: str = "fr") -> dict:
    """The writer's phrases: French (``templates/phrases.yaml``), or English over French.

    Read once per language (callers only read them)."""
    folder = Path(__file__).parent / "templates"
    french = yaml.safe_load((folder / "phrases.yaml").read_text(encoding="utf-8"))
    if language != "en":
        return french
    english = yaml.safe_load((folder / "phrases_en.yaml").read_text(encoding="utf-8"))
    return _merged(french, english)


def _merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def citation_markers(text: str) -> list[int]:
    """Every ``[n]`` in a text, in order."""
    return [int(n) for n in _MARKER.findall(text)]


@dataclass
class WriterInput:
    """What a writer gets: the question, who asks, the ranked passages and recommendations."""

    question: str
    profile: Profile
    intents: set[str]
    hits: list[Hit]
    recommendation: Recommendation | None
    kb: KnowledgeBase
    #: what the question mainly asks for (see ``retrieval.detect_focus``)
    focus: str | None = None
    #: language of the answer's own sentences
    language: str = "fr"
    #: passages cited earlier in the conversation: a follow-up adds, it does not repeat
    cited_before: set[str] = field(default_factory=set)
    follow_up: bool = False
    #: what a follow-up asked to change (« cheaper », « shorter »)
    change: str | None = None
    #: trainings shown in the previous answer: named again briefly, not described again
    shown_before: set[str] = field(default_factory=set)
    #: the previous answer's own lines (``said_lines``): none is written again word for word
    said_before: set[str] = field(default_factory=set)
    #: « à qui m'adresser ? »: the answer leads with the next step
    asks_next_step: bool = False
    #: what the question names (stems of its nouns and adjectives, the IA and work left out;
    #: see ``Reading.nouns``)
    named: frozenset[str] = frozenset()
    #: the fixed notices given earlier in the conversation (``Draft.told``): each is said once
    told_before: set[str] = field(default_factory=set)
    #: the question as read (« c koi lia » -> « c'est quoi l'ia »): what passages are matched
    #: against; ``question`` stays as typed (a language model gets it)
    read: str = ""


@dataclass
class Draft:
    """An answer text and the passages it cites, in citation order."""

    text: str
    chunks: list[Chunk] = field(default_factory=list)
    next_step: str = ""
    #: the fixed notices this answer gives (« situation_funding:demandeur_emploi »)
    told: list[str] = field(default_factory=list)


class AnswerWriter(abc.ABC):
    """Writes the answer from the sources."""

    @abc.abstractmethod
    def write(self, data: WriterInput) -> Draft:
        """Compose an answer whose every ``[n]`` refers to ``Draft.chunks[n-1]``."""


def _stems(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(fold(text))}


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """French and English function words (spaCy's lists, accents folded): « quoi », « des »
    and « the » say nothing of what a passage is about."""
    from spacy.lang.en.stop_words import STOP_WORDS as english
    from spacy.lang.fr.stop_words import STOP_WORDS as french

    return frozenset(fold(w) for w in (*french, *english)) - {"ia", "ai"}


def _names_any(chunk: Chunk, named: AbstractSet[str]) -> bool:
    """Whether a passage speaks of anything the question names."""
    from .understanding.lexicon import normalise_words

    return bool(named) and bool(set(normalise_words(f"{chunk.section} {chunk.text}")) & named)


def _subject_words(data: WriterInput) -> set[str]:
    """The words of the question that name one subject: said in few passage headings
    (« pass » in « le Pass Formation ça couvre jusqu'à combien ? », not « formation »)."""
    from .understanding.lexicon import normalise_words

    counts = data.kb.heading_counts
    said = {w for w in normalise_words(data.question) if len(w) > 2 and w not in _stop_words()}
    return {w for w in said if 0 < counts.get(w, 0) <= 3}


def _headed_by(chunk: Chunk, subject: AbstractSet[str]) -> bool:
    """Whether a passage's heading names the question's subject (``_subject_words``)."""
    from .understanding.lexicon import normalise_words

    return bool(subject) and bool(subject & set(normalise_words(chunk.section)))


def _said_already(text: str, lines: list[str], *, share: float = 0.6) -> bool:
    """Whether the answer so far already says most of ``text``: two sources often state one
    rule (« l'OPCO … moins de 50 salariés ») in nearly the same words."""
    stop = _stop_words()
    words = {w for w in _stems(text) if w not in stop and len(w) > 3}
    if not words:
        return False
    written = {w for line in lines for w in _stems(line)}
    return len(words & written) >= share * len(words)


def _sentences(text: str) -> list[str]:
    # A list reads as one sentence: « développer : l'usage… ; la préparation… ».
    flat = re.sub(r":\s*\n\s*[-*]\s+", " : ", text)
    flat = re.sub(r"\s*;?\s*\n\s*[-*]\s+", " ; ", flat)
    flat = re.sub(r"\s+", " ", flat).strip()
    return [s.strip() for s in _SENTENCE_END.split(flat) if len(s.strip()) > 20]


def best_sentences(
    chunk: Chunk, question: str, *, limit: int = 2, audience: str | None = None, said: AbstractSet[str] = frozenset(),
) -> list[str]:
    """The sentences of a passage that share most with the question, in passage order.

    ``said``: the previous answer's lines. When the sentences chosen would make one of them
    again word for word (a passage found again by a follow-up: « faut forcément un bac+5 ? »),
    the passage's other sentences answer instead.
    """
    # Instructions planted in a document are never repeated to the user.
    sentences = [s for s in _sentences(chunk.text) if not is_injection(s)]
    if not sentences:
        return [] if is_injection(chunk.text) else [chunk.text.strip()]
    chosen = _choose(sentences, question, chunk.section, limit=limit, audience=audience)
    if said and " ".join(chosen) in said:
        # What follows what was said (« Mais il existe d'autres chemins… »), as an adviser
        # would go on; the passage's other sentences when nothing follows.
        given = {s for line in said for s in _sentences(line)}
        last = max(i for i, s in enumerate(sentences) if s in chosen)
        after = [s for s in sentences[last + 1 :] if s not in given]
        rest = [s for s in sentences if s not in given]
        chosen = after[:limit] if after else _choose(rest, question, chunk.section, limit=limit, audience=audience) if rest else []
    return chosen


def _choose(sentences: list[str], question: str, section: str, *, limit: int, audience: str | None) -> list[str]:
    wanted = _stems(question) | _stems(section)
    acronyms = [a for a in re.findall(r"\b[a-z]{3,5}\b", fold(question)) if a not in _COMMON_SHORT]
    quantity = _asks_quantity(question)
    scored = []
    for position, sentence in enumerate(sentences):
        overlap = len(_stems(sentence) & wanted)
        # « c'est quoi le CPF ? »: the sentence that spells it out answers first.
        overlap += 2 * sum(1 for a in acronyms if _spells_out(a, sentence))
        length_penalty = 0.5 if audience == "eleve" and len(sentence) > 220 else 0.0
        # « jusqu'à combien ? » is answered by a figure about what is asked, first.
        figure = quantity and overlap > 0 and bool(re.search(r"\d", sentence))
        scored.append(((figure, overlap - length_penalty - position * 0.05), position, sentence))
    chosen = sorted(scored, reverse=True)[:limit]
    positions = sorted(position for _, position, _ in chosen)
    # A sentence that announces a list (« trois ensembles d'activités ») comes with the list.
    for position in list(positions):
        count = _announced(sentences[position])
        positions.extend(range(position + 1, min(position + 1 + count, len(sentences))))
    # « Ces deux cours n'exigent pas… », « Il reposait sur trois axes »: a sentence that points
    # back comes with the sentence it points to, or it would say nothing to the reader.
    for position in sorted(set(positions)):
        back = position
        while back > 0 and back - 1 not in positions and _leans_back(sentences[back]) and position - back < 2:
            back -= 1
            positions.append(back)
    picked = [sentences[i] for i in sorted(set(positions))]
    if picked and picked[0] == sentences[0]:
        # The passage's first sentence points to a section before it (« À l'opposé, l'étude
        # décrit… »): the connective goes, the sentence stands on its own.
        picked[0] = _without_opener(picked[0])
    return picked


#: openers that point back to what was just said (« Dans ce cas, 302 000 emplois… »)
_OPENER = re.compile(r"^(dans ce cas|dans ces cas|dans ces conditions|à l'opposé|a l'oppose|de ce fait|pour cela)\s*,\s*", re.IGNORECASE)


def _without_opener(sentence: str) -> str:
    """« À l'opposé, l'étude… » -> « L'étude… »."""
    rest = _OPENER.sub("", sentence, count=1)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


#: French words that open a sentence pointing back to the one before (a closed class)
_ANAPHORA = frozenset("ces cet cette cela ceci celui celle ceux celles ils elles il elle".split())
#: what follows « ce » or « il » when they point nowhere (« ce que… », « il existe… »)
_NOT_ANAPHORA_NEXT = frozenset("que qui qu dont existe faut s agit y est sont peut".split())


def _leans_back(sentence: str) -> bool:
    """Whether a sentence opens by pointing back (« Ces cours… », « Ils permettent… »)."""
    if _OPENER.match(sentence):
        return True
    words = re.findall(r"\w+", fold(sentence)[:40].lower())
    if not words:
        return False
    if words[0] == "ce":
        return len(words) > 1 and words[1] not in _NOT_ANAPHORA_NEXT
    return words[0] in _ANAPHORA and (words[0] not in ("il", "ce") or len(words) < 2 or words[1] not in _NOT_ANAPHORA_NEXT)


def content_stems(words: str) -> set[str]:
    """The stems of a text's content words (function words left out; « IA » kept, short as it
    is: it is what « c'est quoi l'IA ? » asks about)."""
    from .understanding.lexicon import normalise_words

    words = _AI_WORDS.sub(" ia ", fold(words))
    kept = [x for x in re.findall(r"\w+", words) if (len(x) > 2 or x == "ia") and x not in _stop_words()]
    return {w for w in normalise_words(" ".join(kept)) if len(w) > 2 or w == "ia"}


def _for_pupils_only(chunk: Chunk) -> bool:
    """Whether a passage's page is written for pupils alone (where to study AI)."""
    return str(chunk.metadata.get("audience") or "") == "eleve"


def _asking_heading(chunk: Chunk, question: str) -> bool:
    """Whether a passage's heading asks what the question asks (« L'intelligence
    artificielle, c'est quoi ? »): it names at least half of what the question names (not
    « c'est quoi les métiers les moins touchés par l'IA ? »)."""
    # (the sentence that asks: « c koi l'ia en vrai ? on doit faire un exposé » asks about AI)
    asking = fold(next((part for part in question.split("?")[:-1] if part.strip()), question)).lower()
    # (what comes after « c'est quoi » is what is asked: « jsuis en terminale à Laon, c'est quoi l'IA »)
    opened = re.search(r"\b(quoi|qu est|what)\b", asking)
    asked = content_stems(asking[opened.start() :] if opened else asking)
    shared = asked & content_stems(chunk.section)
    return chunk.section.rstrip().endswith("?") and bool(shared) and 2 * len(shared) >= len(asked)


def _answers(chunk: Chunk, question: str, audience: str | None, context: str = "", *, sized: bool = False) -> float:
    """How well a passage's best sentences answer a question: the question's words they share
    (French stems), a figure for « combien », the list itself for « quels ».

    ``sized``: the asker's company headcount is known and who funds is asked: the sentence that
    states a headcount threshold (« entreprises de moins de 50 salariés ») is the answer.

    The retrieval order breaks ties (the sort that uses this is stable).
    """
    from .understanding.lexicon import normalise_words

    text = " ".join(best_sentences(chunk, question, limit=1 if audience == "eleve" else 2, audience=audience))
    asked = content_stems(question)
    said = set(normalise_words(_AI_WORDS.sub(" ia ", fold(f"{chunk.section} {text}"))))
    # What the question names weighs more than the asker's situation (``context``).
    score = float(len(asked & said)) + 0.5 * len((content_stems(context) - asked) & said)
    if sized and _HEADCOUNT_RULE.search(fold(text).lower()):
        score += 2
    if _asking_heading(chunk, question):
        score += 2  # a heading asking the question (« L'intelligence artificielle, c'est quoi ? »)
    # A code written in the question (« RNCP38777BC04 ») is asked for by name.
    score += 3 * sum(1 for code in mentioned_codes(question) if code in chunk.text.upper() or code in chunk.record_key.upper())
    folded = fold(question)
    if _asks_quantity(question) and re.search(r"\d", text):
        score += 1
        # « combien de métiers ? » is answered by « 147 métiers », a count of what is asked
        counted = re.search(r"\bcombien (?:de |d )?(\w{4,})", plain(question))
        if counted and re.search(rf"\d[\d\s\u202f\u00a0]*\s(?:\w+\s)?{re.escape(counted.group(1)[:5])}", fold(text).lower()):
            score += 2
    if _asks_who(question) and _names_someone(text):
        score += 1.5  # « qui a réalisé cette étude ? » is answered by a sentence that names them
    elif _WHO_PAYS.search(folded) and _PAYS.search(fold(text).lower()):
        score += 1  # « l'alternance, c'est qui qui paie ? » is answered by who finances it
    for acronym in re.findall(r"\b[a-z]{2,5}\b", folded):
        # « c'est quoi le CPF ? »: the sentence that spells it out (compte personnel de formation).
        if acronym not in _COMMON_SHORT and _spells_out(acronym, text):
            score += 2
    if re.search(r"\b(quel(le)?s|which|what are)\b", folded) and any(_announced(s) for s in _sentences(text)):
        score += 2  # « quels secteurs ? » is answered by the list itself
    return score


#: a rule that turns on a company's headcount (« moins de 50 salariés », « 250 salariés ou plus »)
_HEADCOUNT_RULE = re.compile(r"\b\d+ (salaries|employees)\b")
_AI_WORDS = re.compile(r"\bintelligences? artificielles?\b|\bartificial intelligence\b")


_WHO_PAYS = re.compile(r"\bqui (peut |va )?(paie|paye|payer|finance|financer|prend en charge)\b|\bwho (pays|funds|can pay)\b")
#: a sentence saying who pays: a financing verb
_PAYS = re.compile(r"\b(financ\w*|prend\w* en charge|pris en charge|pays|paid|funds?|rembours\w*|cofinanc\w*)\b")


def _asks_who(question: str) -> bool:
    """« qui a réalisé l'étude ? », « c'est qui la Cité de l'IA ? », « who made it? » (not
    « qui paie ? », a funding question)."""
    folded = fold(question).lower()
    return bool(re.search(r"^\W*(et )?(qui|c est qui|par qui|who)\b", folded)) and not _WHO_PAYS.search(folded)


def _names_someone(text: str) -> bool:
    """Whether sentences name organisations or people (spaCy's entities), the region and its
    départements aside."""
    from .understanding.nlp import pipeline

    names = {e.text for e in pipeline()(text).ents if fold(e.text).lower() not in _places()}
    return len(names) >= 2


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """The region and its départements, as ``_names_someone`` leaves them out."""
    from .models import DEPARTMENTS

    return frozenset(fold(name).lower() for name in (*DEPARTMENTS.values(), "Hauts-de-France", "France"))


def _asks_exposure(question: str, job: str) -> bool:
    """« cariste, c'est un métier menacé ? », « les robots vont me remplacer ? »: a question on
    the exposure of the asker's job (named, or the asker speaking of themself)."""
    from .understanding.lexicon import lexicon, normalise_words, words_of

    lex, stems = lexicon(), normalise_words(question)
    about_job = bool(set(stems) & {w for w in normalise_words(job) if len(w) > 3}) or bool(set(words_of(question)) & lex.first_person)
    return asks_something(question) and about_job and lex.exposure_questions.contains(stems)


def _asks_quantity(question: str) -> bool:
    """« combien ? », « how much? »: a figure answers."""
    return bool(re.search(r"\b(combien|how many|how much|beaucoup|bcp|a lot of|lots of)\b", fold(question)))


_QUESTION_WORDS = frozenset(
    "quoi koi qu'est quel quelle quels quelles comment combien pourquoi est-ce "
    "what how why which who where is are does do can".split()
)


def asks_something(question: str) -> bool:
    """Whether a turn asks something (a question mark, or a question word opening it)."""
    words = re.findall(r"[\w'-]+", fold(question))
    # (« Notre OPCO peut prendre en charge ? On est 45 salariés. » asks in its first sentence)
    return "?" in question or any(w in _QUESTION_WORDS for w in words[:10])


def _family_name(title: str) -> str:
    """« Hôtellerie, restauration et tourisme face à l'IA » -> « hôtellerie, restauration et tourisme »."""
    name = re.sub(r"\s+face à l'IA$", "", title.strip().replace("\u2019", "'"))
    return name[:1].lower() + name[1:] if name[:2] != name[:2].upper() else name


#: how passages name each situation of ``Profile.situation``
_SITUATION_WORDS = {
    "demandeur_emploi": "demandeur d'emploi",
    "independant": "indépendant travailleur non salarié",
    "fonction_publique": "fonction publique établissement public",
}

_COMMON_SHORT = frozenset("les des une est pas qui que quoi pour sur dans avec mon ton son nos vos leur the and for what how".split())


def _spells_out(acronym: str, text: str) -> bool:
    """Whether ``text`` has words whose initials make ``acronym`` (small words skipped)."""
    words = [w for w in re.findall(r"[a-z]+", fold(text)) if w not in _stop_words()]
    initials = "".join(w[0] for w in words)
    return len(acronym) >= 3 and acronym in initials and any(
        "".join(w[0] for w in words[i : i + len(acronym)]) == acronym and all(len(w) > 3 for w in words[i : i + len(acronym)])
        for i in range(len(words))
    )


_COUNTS = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6}


def _announced(sentence: str) -> int:
    """How many following sentences a sentence announces (« trois ensembles … : »)."""
    words = fold(sentence).replace(":", " ").split()
    for i, word in enumerate(words[:-1]):
        following = words[i + 1]
        if word in _COUNTS and following.endswith(("s", "x")) and following not in ("ans", "mois", "jours", "heures", "semaines", "fois"):
            return _COUNTS[word] if sentence.rstrip().endswith((":", ".")) else 0
    return 0


class _Citations:
    """Numbers passages in the order the text first cites them."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self._numbers: dict[str, int] = {}

    def cite(self, chunk: Chunk) -> str:
        if chunk.id not in self._numbers:
            self.chunks.append(chunk)
            self._numbers[chunk.id] = len(self.chunks)
        return f"[{self._numbers[chunk.id]}]"


class GroundedWriter(AnswerWriter):
    """The default writer: extractive, offline, every fact cited.

    The answer starts with what AI changes for the asker's job (in brief when the question asks
    for something else), then leads with what the question asks for (``WriterInput.focus``):
    trainings, certifications or funding; a funding question starts with the funding passages.
    """

    _ORDER = {
        None: ("role", "passages", "trainings", "certifications"),
        "training": ("trainings", "role", "certifications", "passages"),
        "certification": ("role", "certifications", "passages", "trainings"),
        "funding": ("passages", "trainings", "certifications", "role"),
    }

    def write(self, data: WriterInput) -> Draft:
        if data.read:
            data = replace(data, question=data.read)
        p = phrases(data.language)
        kb, profile = data.kb, data.profile
        audience = profile.audience
        cites = _Citations()
        lines: list[str] = []
        #: the previous answer's lines: a passage found again answers with its other sentences
        said = frozenset(data.said_before)
        role = kb.roles.get(profile.role) if profile.role else None
        job_label = profile.role_label or (role.label if role else "")
        if role is None and audience == "eleve" and profile.target_role:
            # « en bac pro électricien »: a pupil's job is the one they are heading for.
            role = kb.roles.get(profile.target_role)
            job_label = profile.target_role_label or (role.label if role else "")
        rec = data.recommendation
        has_trainings = rec is not None and bool(rec.trainings)
        focus = data.focus if data.focus in self._ORDER else None
        if focus == "training" and not has_trainings:
            focus = None
        # A follow-up that changes the constraints leads with the trainings, unless it asks about
        # funding (« l'OPCO prend en charge ? »): then the answer to that comes first.
        asks_funding = focus == "funding"
        if data.change and has_trainings and not asks_funding:
            focus = "training"
        order = self._ORDER[focus]
        role_seen = role is not None and any(c.id in data.cited_before for c in kb.passages(f"role:{role.id}"))
        # « et cariste, c'est un métier menacé ? » after the job was presented: its exposure again
        asks_exposure = role_seen and role is not None and bool(role.ai_exposure) and _asks_exposure(data.question, job_label)

        # Knowledge passages not given earlier in the conversation: a follow-up adds, it does
        # not repeat. The job's own record and its family's section are the role section's.
        covered: set[str] = set()
        if role is not None:
            covered.add(f"role:{role.id}")
            if not role_seen:
                # The family's section comes with the job's; once given, the family page's other
                # sections may answer a new question (« et les biais ? »), uncited ones only.
                covered.add(f"study:{role.sector}")
        if data.change and focus != "funding":
            max_passages = 0
        elif data.change:
            max_passages = 1  # the answer to the funding question, then the trainings
        elif focus == "training":
            max_passages = 1
        elif has_trainings and focus != "funding":
            max_passages = 2
        else:
            max_passages = 3
        # A general question (« combien d'emplois ? », « c'est quoi l'IA ? ») is answered first
        # from the best passage, even when a job is known.
        general = bool(data.intents & {"study", "definition"}) and focus is None and not data.change
        passages: list[Chunk] = []
        leading = True
        # A bloc asked by its code (« le bloc RNCP38777BC04 ») is answered by the passage that
        # names it, not by its certification's first passage found.
        blocs_asked = {c for c in mentioned_codes(data.question) if "BC" in c}
        # A passage cited before may come again when its heading names what is asked.
        subject = _subject_words(data)
        # « on est 300 salariés, qui paie ? »: the rule that turns on a company's size
        sized = bool(profile.company_size) and asks_funding
        for hit in data.hits:
            chunk = hit.chunk
            key = chunk.record_key
            names_bloc = any(code in chunk.text.upper() for code in blocs_asked)
            if names_bloc and key in covered and any(p.record_key == key for p in passages):
                passages = [chunk if p.record_key == key else p for p in passages]
                continue
            if max_passages and key in covered and hit is not data.hits[0]:
                # Another section of a page already taken replaces it when its heading asks the
                # question (« L'intelligence artificielle, c'est quoi ? » for « c koi l'IA ? »).
                same = next((i for i, c in enumerate(passages) if c.record_key == key), None)
                if same is not None and chunk.id not in data.cited_before and _asking_heading(chunk, data.question):
                    passages[same] = chunk
                continue
            if chunk.kind == "training" or key in covered or (chunk.kind == "role" and role is not None):
                continue
            # A passage cited before is not given again, unless it is what this question finds
            # first: its other sentences answer it (repeated lines are dropped below).
            again = chunk.id in data.cited_before and not (leading and not data.change) and not _headed_by(chunk, subject)
            # (« c'est l'OPCO qui paie ? » from a company of 45: the rule on its size, said before)
            again = again and not (sized and _HEADCOUNT_RULE.search(fold(chunk.text).lower()))
            leading = False
            if again:
                continue
            if chunk.kind == "certification" and "certification" not in data.intents:
                continue  # certifications have their own section
            if role is not None and chunk.metadata.get("sector") not in (None, role.sector) and not _headed_by(chunk, subject):
                continue  # another family's page speaks of other jobs, unless the question names it
            if _for_pupils_only(chunk) and audience in ("rh", "entreprise") and not _headed_by(chunk, subject):
                continue  # where pupils may study is no answer to an HR team, unless asked about
            passages.append(chunk)
            covered.add(key)
            if len(passages) >= max(max_passages, 4) or not max_passages:
                break
        if max_passages:
            # The passages that answer the question asked come first (stable: retrieval order
            # breaks ties), among the first few found.
            # The asker's situation is part of what is asked (« le CPF, au chômage ? »).
            situation = _SITUATION_WORDS.get(profile.situation or "", "")
            passages.sort(key=lambda c: -_answers(c, data.question, audience, situation, sized=sized))
        passages = passages[:max_passages]

        # The first sentence answers the question: what changed in a follow-up, the job's
        # exposure, or the best sentence of the best passage.
        quoted_first, quote_end = False, 0
        # « ça se finance comment quand on est à l'hôpital public ? »: the route of the asker's
        # situation is the answer; the passages follow.
        # Said once in a conversation: the next funding question gets its passages first.
        notice = f"situation_funding:{profile.situation}"
        situation_lead = (
            asks_funding and profile.situation in p["situation_funding"]
            and audience not in ("eleve", "rh", "entreprise") and notice not in data.told_before
        )
        if situation_lead:
            lines.append(" ".join(p["situation_funding"][str(profile.situation)].split()))
        # « il existe une certification sur l'IA générative ? »: the certification found first
        # answers, before the job or what changed in the trainings.
        cert_lead = None
        if "certification" in data.intents and "definition" not in data.intents and asks_something(data.question):
            found = [h.chunk for h in data.hits[:6] if h.chunk.kind == "certification" and h.chunk.id not in data.cited_before]
            # (the one that answers best, retrieval order breaking ties)
            cert_lead = max(found, key=lambda c: _answers(c, data.question, audience), default=None)
        if cert_lead is not None:
            passages = [c for c in passages if c.record_key != cert_lead.record_key]
            text = " ".join(best_sentences(cert_lead, data.question, limit=2, audience=audience, said=said))
            lines.append(f"{text} {cites.cite(cert_lead)}")
            quoted_first, quote_end = True, len(lines)
            if data.change and rec is not None:
                lines.append(self._change_line(data, p))
        elif passages and asks_funding and (data.change or (role is not None and not role_seen) or situation_lead):
            first = passages.pop(0)
            text = " ".join(best_sentences(first, data.question, limit=2, audience=audience, said=said))
            if text:
                lines.extend([f"{text} {cites.cite(first)}", *self._sized(text, profile, p, sized)])
                quoted_first, quote_end = True, len(lines)
            if data.change and rec is not None:
                lines.append(self._change_line(data, p))
        elif data.change and rec is not None:
            lines.append(self._change_line(data, p))
        elif data.asks_next_step:
            lines.append(self.next_step(profile, language=data.language))
        elif role is not None and (not role_seen or asks_exposure) and not general:
            key = "role_eleve" if audience == "eleve" else "role"
            if role.ai_exposure and audience != "eleve":
                family = kb.study.get(role.sector or "")
                lines.append(p["direct_role_again" if role_seen else "direct_role"].format(
                    de_role=de_job(job_label), role=job_label,
                    exposure=p["exposure_labels"][role.ai_exposure],
                    family=_family_name(family.title) if family is not None else "",
                ))
            else:
                lines.append(p["intro"][key].format(de_role=de_job(job_label), role=job_label))
        elif passages and (
            # A question asked with no job known (« c'est quoi un bloc de compétences ? ») is
            # answered first; the trainings or certifications follow. So is « c'est quoi … ? »
            # about a job already presented (« c quoi ce cours Objectif IA ? »).
            (role is None and asks_something(data.question) and (focus in (None, "funding") or "definition" in data.intents))
            or (role_seen and "definition" in data.intents and asks_something(data.question))
            or focus in (None, "funding") and (role is None or general or role_seen) and (
            general or not has_trainings or focus == "funding"
            # A new question about a job already presented (« et les biais ? ») is answered first.
            or (role_seen and focus is None and "training" not in data.intents)
        )):
            first = passages.pop(0)
            limit = 1 if audience == "eleve" else 2
            text = " ".join(best_sentences(first, data.question, limit=limit, audience=audience, said=said))
            if text:
                lines.extend([f"{text} {cites.cite(first)}", *self._sized(text, profile, p, sized)])
                quoted_first, quote_end = True, len(lines)
        elif not data.follow_up:
            if focus == "training" and rec is not None and has_trainings and rec.all_constraints_met and "definition" not in data.intents:
                # « ya des formations gratuites en ligne ? »: yes, and which, first.
                first_two = [t.title for t in rec.trainings[:2]]
                key = "trainings_found_one" if len(first_two) == 1 else "trainings_found"
                intro = p[key].format(titles=p["and"].join(f"« {title} »" for title in first_two))
                if intro in said:
                    intro = p["intro"]["default"]  # (the same two trainings led the previous answer)
            elif role is not None and has_trainings and audience not in ("rh", "entreprise"):
                # A job already presented: say what this answer brings, not « our sources say ».
                intro = p["intro"]["trainings"].format(de_role=de_job(job_label), role=job_label)
            elif audience in ("eleve", "rh", "entreprise"):
                intro = p["intro"].get(audience or "", p["intro"]["default"])
            else:
                intro = p["intro"]["default"]
            lines.append(intro)
        if data.language == "en":
            # The answer's own sentences are English; quoted sources stay French, and say so
            # (right after the quoted answer, which leads).
            if not lines:
                lines.insert(0, p["intro"]["default"])
            lines.insert(quote_end if quoted_first else len(lines), p["source_language_note"])

        def role_section(_position: int) -> None:
            if role is None:
                # No job named, but a sector: what AI changes in it, unless a passage below says it.
                family = self._family_passage(kb, profile.sector, data.question) if profile.sector else None
                if family is not None and family.record_key not in covered and family.id not in data.cited_before:
                    self._family_line(lines, family, data, cites, limit=1, new_paragraph=True)
                return
            if role_seen:
                if not data.follow_up and focus is None and not asks_exposure:
                    lines.append("")
                    lines.append(p["seen_before"])
                return
            self._role(
                lines, role, data, cites, p, brief=focus is not None or audience == "eleve",
                with_family=focus != "training",
            )

        def passages_section(position: int) -> None:
            if not passages:
                return
            lines.append("")
            if position > 0 or lines:
                lines.append(f"## {p['headings']['funding'] if 'funding' in data.intents else p['headings']['more']}")
            # Beside the job's presentation (first given in this answer), « pour aller plus loin »
            # only holds passages about something the question names besides the IA and work
            # (« c'est vrai ? » names nothing: neither the definition of AI nor that of a bloc
            # is asked). In a follow-up, the passages found are the answer itself.
            # (a team's trainer or a company gets the support around a training: always theirs)
            further_only = (
                role is not None and not role_seen and not general and "funding" not in data.intents
                and audience not in ("rh", "entreprise")
            )
            for chunk in passages:
                if further_only and not _names_any(chunk, data.named):
                    continue
                limit = 1 if audience == "eleve" else 2
                text = " ".join(best_sentences(chunk, data.question, limit=limit, audience=audience, said=said))
                # (lines said word for word in the previous answer are dropped later: they do not count)
                kept = [line for line in lines if _MARKER_SPACE.sub("", line).strip() not in data.said_before]
                if text and not _said_already(text, kept):
                    lines.append(f"{text} {cites.cite(chunk)}")

        def trainings_section(_position: int) -> None:
            if rec is None:
                return
            if not has_trainings:
                if rec.off_topic and role is not None:
                    lines.append("")
                    lines.append(p["off_topic_none"].format(de_role=de_job(job_label), role=job_label))
                return
            lines.append("")
            heading = p["headings"]["trainings_rh"] if audience == "rh" else p["headings"]["trainings"]
            lines.append(f"## {heading}")
            if rec.off_topic and role is not None:
                lines.append(p["off_topic"].format(de_role=de_job(job_label), role=job_label))
            if not rec.all_constraints_met and data.change not in ("cheaper", "shorter", "constraints", "correction"):
                from .constraints import Constraints

                # (``rec.unmet`` is these constraints in French; said here in the answer's language)
                unmet = Constraints.of(profile).describe(data.language) if rec.unmet else ""
                lines.append(p["unmet"].format(unmet=unmet) if unmet else p["relaxed"].strip())
            # Trainings already described are named again briefly, grouped by what they relax
            # (« still fit » only when they do), not repeated word for word: one line per group,
            # where its first training stood.
            again: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}
            items: list[str | tuple[str, ...]] = []
            for t in rec.trainings:
                chunk = kb.passages(f"training:{t.id}")[0]
                if t.id in data.shown_before and not data.change:
                    continue
                label = f" ({p['example_label']})" if t.illustrative else ""
                relaxed = p["relaxes"].format(relaxed=_relaxed_words(t.relaxed, p)) if t.relaxed else ""
                full = f"- « {t.title} », {t.provider}{label} : {t.why}{relaxed}."
                if t.id in data.shown_before or full in data.said_before:
                    group = tuple(t.relaxed)
                    if group not in again:
                        items.append(group)
                    facts = _fit_facts(t, profile, p) if data.change else ""
                    again.setdefault(group, []).append((t.title, facts, cites.cite(chunk)))
                    continue
                refs = cites.cite(chunk)
                # Asked for certifying trainings: the bloc each one prepares, cited where it is named.
                prepared = self._prepared_passage(kb, t) if profile.certifying else None
                if prepared is not None:
                    refs += cites.cite(prepared)
                items.append(f"{full} {refs}")
            lines.extend(_shown_again(again[item], list(item), p) if isinstance(item, tuple) else item for item in items)

        def certifications_section(_position: int) -> None:
            if data.change:
                return
            self._certifications(lines, rec, kb, cites, p, seen=data.cited_before)

        sections = {
            "role": role_section, "passages": passages_section,
            "trainings": trainings_section, "certifications": certifications_section,
        }
        for position, name in enumerate(order):
            sections[name](position)

        next_step = self.next_step(profile, language=data.language)
        if not data.change and not data.follow_up and not data.asks_next_step and not situation_lead:
            lines.append("")
            lines.append(f"## {p['headings']['next_step']}")
            lines.append(next_step)
        lines = _without_repeats(lines, data.said_before)
        if not any(line.strip() and not line.startswith("## ") for line in lines):
            # Everything was said in the previous answer (« dans l'Aisne uniquement » said
            # twice): say that nothing changes, not nothing.
            lines = [p["nothing_new"]]
        text = "\n".join(lines).strip()
        # Only passages still cited after the repeats are dropped are returned, renumbered.
        draft = _renumbered(text, cites.chunks, next_step)
        draft.told = [notice] if situation_lead else []
        return draft

    @staticmethod
    def _sized(text: str, profile: Profile, p: dict, sized: bool) -> list[str]:
        """« Avec 45 salariés, c'est ce seuil … » after a quoted rule that turns on a company's
        headcount (the asker said it; the rule is the source's)."""
        if not sized or not _HEADCOUNT_RULE.search(fold(text).lower()):
            return []
        return [p["company_size_lead"].format(size=profile.company_size)]

    @staticmethod
    def _change_line(data: WriterInput, p: dict) -> str:
        """« Voici des formations moins chères… », or that there are none."""
        rec, profile = data.recommendation, data.profile
        # Trainings of the previous answer are no news: « moins cher » or a new constraint met
        # only by them has found nothing new, and the line must not announce a list.
        fresh = [t for t in (rec.trainings if rec else []) if t.id not in data.shown_before]
        met = rec is not None and bool(fresh) and rec.all_constraints_met
        relaxed = sorted({r for t in fresh for r in t.relaxed})
        key = "met" if met else "relaxed" if fresh else "none"
        if data.change == "cheaper" and profile.max_price is not None:
            if profile.max_price <= 0:
                # A free one was shown: nothing is cheaper; other free ones may be news.
                return p["cheaper_free" if key == "none" else "cheaper_free_more"]
            price = _euros(profile.max_price + 0.01)
            return p[{"met": "cheaper", "relaxed": "cheaper_relaxed", "none": "cheaper_none"}[key]].format(
                price=price, relaxed=_relaxed_words(relaxed, p))
        if data.change == "shorter" and profile.max_hours is not None:
            hours = f"{round(profile.max_hours + 0.01, 1):g}\u00a0h"
            return p[{"met": "shorter", "relaxed": "shorter_relaxed", "none": "shorter_none"}[key]].format(
                hours=hours, relaxed=_relaxed_words(relaxed, p))
        from .constraints import Constraints

        wanted = Constraints.of(profile).describe(data.language)
        if data.change == "correction":
            return p["corrected"].format(understood=_understood(profile, p))
        if rec is not None and not rec.trainings:
            return p["constraints_unmet_none"].format(wanted=wanted)
        if rec is not None and not fresh:
            return p["constraints_same" if rec.all_constraints_met else "constraints_unmet_same"].format(wanted=wanted)
        return p["constraints_changed" if met else "constraints_unmet"].format(wanted=wanted)

    def _role(self, lines, role, data: WriterInput, cites, p, *, brief: bool, with_family: bool = True) -> None:
        """What AI changes for the asker's job: exposure, skills, the family's study section."""
        kb = data.kb
        job_label = data.profile.role_label or role.label
        role_chunk = next(iter(kb.passages(f"role:{role.id}")), None)
        if role_chunk is None:
            return
        lines.append("")
        lines.append(f"## {p['headings']['exposure']}")
        # The team's note on the job (and its exposure estimate) is its own passage, cited as
        # Orientia; the ROME sheet is cited as France Travail only for what the sheet says.
        note = next((c for c in kb.passages(f"role:{role.id}") if c.metadata.get("provenance") == "orientia"), None)
        definition = role.definition.split(". ")[0].rstrip(".")
        if definition or note is None:
            ref = cites.cite(role_chunk)
            if definition:
                lines.append(f"Fiche ROME {role.rome_code} ({role.label}) : {definition}. {ref}")
        if note is None:
            lines.append(f"L'étude régionale ne couvre pas ce métier : Orientia n'en estime pas l'exposition à l'IA. {ref}")
        if not role.skills_to_build:
            # No skills noted by the team: the sheet's own, digital-transition ones first.
            digital, core = role.key_skills()
            if digital or core:
                rome_ref = cites.cite(role_chunk)
                if digital:
                    lines.append(p["rome_digital_skills"].format(skills=" ; ".join(digital)) + f" {rome_ref}")
                if core:
                    lines.append(p["rome_core_skills"].format(skills=" ; ".join(core)) + f" {rome_ref}")
        if note is not None:
            note_ref = cites.cite(note)
            if role.ai_exposure is not None:
                lines.append(p["exposure_line"].format(
                    exposure=p["exposure_labels"][role.ai_exposure], de_role=de_job(job_label), role=job_label,
                ) + f" {note_ref}")
            if role.exposure_summary:
                lines.append(f"{role.exposure_summary.strip()} {note_ref}")
            if role.skills_to_build:
                lines.append(p["skills_line"].format(skills=" ; ".join(role.skills_to_build)) + f" {note_ref}")
        # A ROME code in the question: every job it covers, not only the first one matched.
        for code in sorted(set(re.findall(r"\b[A-N]\d{4}\b", data.question.upper()))):
            for other in sorted(kb.roles.values(), key=lambda r: r.label):
                if other.rome_code == code and other.id != role.id:
                    chunk = next(iter(kb.passages(f"role:{other.id}")), None)
                    if chunk is not None:
                        lines.append(p["rome_other"].format(code=code, label=other.label) + f" {cites.cite(chunk)}")
        family = self._family_passage(kb, role.sector, data.question) if with_family else None
        if family is not None:
            self._family_line(lines, family, data, cites, limit=1 if brief else 2)

    @staticmethod
    def _family_line(lines, family: Chunk, data: WriterInput, cites, *, limit: int, new_paragraph: bool = False) -> None:
        """The sentences of a job family's study section on what AI changes, cited."""
        text = " ".join(best_sentences(family, data.question + " change IA", limit=limit, audience=data.profile.audience))
        if text:
            if new_paragraph:
                lines.append("")
            lines.append(f"{text} {cites.cite(family)}")

    @staticmethod
    def _certifications(lines, rec, kb, cites, p, *, seen: AbstractSet[str] = frozenset()) -> None:
        if rec is None:
            return
        shown = [c for c in rec.certifications if kb.passages(f"certification:{c.code}")[0].id not in seen]
        if not shown:
            return
        lines.append("")
        lines.append(f"## {p['headings']['certifications']}")
        for cert in shown:
            chunk = kb.passages(f"certification:{cert.code}")[0]
            label = f" ({p['example_cert_label']})" if cert.illustrative else ""
            blocs = ""
            if cert.blocs:
                blocs = " — " + p["bloc_line"].format(blocs=" ; ".join(f"{b.code} « {b.title} »" for b in cert.blocs[:3]))
            title = f" « {cert.title} »" if cert.title else ""
            lines.append(f"- {cert.code}{title}{label}{blocs}. {cites.cite(chunk)}")

    @staticmethod
    def _prepared_passage(kb: KnowledgeBase, t) -> Chunk | None:
        """The passage of the bloc a training prepares (its certification's first passage otherwise)."""
        if not t.certification_code:
            return None
        chunks = kb.passages(f"certification:{t.certification_code}")
        for bloc in t.blocs:
            for chunk in chunks:
                if chunk.section.startswith(bloc):
                    return chunk
        return chunks[0] if chunks else None

    @staticmethod
    def _family_passage(kb, sector: str, question: str):
        """The passage of the job family's study section on what AI changes."""
        from .text import fold

        candidates = kb.passages(f"study:{sector}")
        if not candidates:
            return None
        for chunk in candidates:
            if "change" in fold(chunk.section):
                return chunk
        return candidates[0]

    @staticmethod
    def next_step(profile: Profile, *, language: str = "fr") -> str:
        """The next step that fits the asker's situation."""
        steps = phrases(language)["next_steps"]
        if profile.audience in ("eleve", "rh", "entreprise"):
            return steps[profile.audience].strip()
        situation_steps = phrases(language)["situation_steps"]
        if profile.situation in situation_steps:
            return " ".join(situation_steps[profile.situation].split())
        if "france_travail" in profile.funding:
            return steps["job_seeker"].strip()
        if "cpf" in profile.funding:
            return steps["cpf"].strip()
        return steps["default"].strip()


def picked_line(t, chunk: Chunk, pick: str, *, language: str = "fr", today=None) -> Draft:
    """« laquelle est la plus courte ? »: the training shown before that is shortest (cheapest),
    named with its duration, price, place and next session, citing its record."""
    p = phrases(language)
    upcoming = sorted(s for s in t.sessions if today is None or s >= today)
    facts = ", ".join([
        f"{t.duration_hours:g}\u00a0h", p["fit_free"] if not t.price_eur else _euros(t.price_eur), _where(t, p),
        *([p["next_session"].format(date=upcoming[0])] if upcoming else []),
        *([p["example_label"]] if t.illustrative else []),
    ])
    text = p["pick"][pick].format(title=t.title, facts=facts)
    return Draft(text=f"{text} [1]", chunks=[chunk])


def _where(t, p: dict) -> str:
    """Where a training takes place, as its facts say it (« à distance », « à Abbeville »)."""
    return p["fit_online"] if t.format == "distanciel" or not t.city else p["fit_city"].format(city=t.city)


def _fit_facts(t, profile: Profile, p: dict) -> str:
    """What of a training answers the constraints now asked (« (gratuite, à Abbeville) »)."""
    facts = []
    if profile.department or profile.format:
        facts.append(_where(t, p))
    if profile.max_hours is not None:
        facts.append(f"{t.duration_hours:g}\u00a0h")
    if profile.max_price is not None:
        facts.append(p["fit_free"] if not t.price_eur else _euros(t.price_eur))
    return f" ({', '.join(facts)})" if facts else ""


def _shown_again(named: list[tuple[str, str, str]], relaxed: list[str], p: dict) -> str:
    """One line for the trainings shown before that are offered again: (title, what fits now,
    citation) each."""
    if len(named) == 1 and not named[0][1]:
        title, _, ref = named[0]
        line = p["shown_again_relaxed"].format(title=title, relaxed=_relaxed_words(relaxed, p)) if relaxed else p["shown_again"].format(title=title)
        return f"{line} {ref}"
    titles = ", ".join(f"« {title} »{facts} {ref}" for title, facts, ref in named)
    if relaxed:
        return p["shown_again_relaxed_group"].format(titles=titles, relaxed=_relaxed_words(relaxed, p))
    return p["shown_again_group"].format(titles=titles)


def _relaxed_words(labels, p: dict) -> str:
    """What a training relaxes, in the answer's language (« la durée », « the duration »)."""
    names = p.get("relaxed_labels", {})
    return ", ".join(names.get(label, label) for label in labels)


def said_lines(text: str) -> list[str]:
    """An answer's own lines as the next turn compares them (citation numbers left out)."""
    return [line for line in (_MARKER_SPACE.sub("", raw).strip() for raw in text.splitlines()) if len(line) >= 40 and not line.startswith("#")]


_MARKER_SPACE = re.compile(r"\s*\[\d+\]")


def _without_repeats(lines: list[str], said: set[str]) -> list[str]:
    """The lines not said word for word in the previous answer; headings left empty go too."""
    kept = [line for line in lines if not said or _MARKER_SPACE.sub("", line).strip() not in said]
    out: list[str] = []
    for i, line in enumerate(kept):
        if line.startswith("## "):
            rest = next((x for x in kept[i + 1 :] if x.strip()), "")
            if not rest or rest.startswith("## "):
                continue
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return out


def _renumbered(text: str, chunks: list[Chunk], next_step: str) -> Draft:
    """Drop passages no longer cited and number the rest in order of first citation."""
    order: list[int] = []
    for n in citation_markers(text):
        if n not in order:
            order.append(n)
    mapping = {old: new for new, old in enumerate(order, start=1)}
    text = _MARKER.sub(lambda m: f"[{mapping[int(m.group(1))]}]", text)
    return Draft(text=text, chunks=[chunks[old - 1] for old in order], next_step=next_step)


def _understood(profile: Profile, p: dict) -> str:
    """« vous êtes chauffeur routier, dans le Pas-de-Calais » : what is now understood."""
    parts = []
    if profile.role_label:
        if profile.learners_are_asker is False:
            parts.append(p["understood"]["learners"].format(job=profile.role_label.lower()))
        else:
            parts.append(p["understood"]["self"].format(job=profile.role_label.lower()))
    if profile.department:
        from .constraints import _DEPARTMENT_IN

        parts.append(_DEPARTMENT_IN[profile.department])
    return ", ".join(parts) or p["understood"]["nothing"]


def _euros(value: float) -> str:
    return f"{value:,.0f}\u00a0€".replace(",", "\u202f")


def to_citations(chunks: list[Chunk], *, excerpt_chars: int = 280) -> list[Citation]:
    """Citations for the API, in the order of the ``[n]`` markers.

    A passage the team wrote (``metadata["provenance"] == "orientia"``, decided per record and
    section at ingest) is cited with kind ``orientia`` and source « Orientia », never as a third
    party; every other passage keeps its kind, its source and the public page where it can be
    checked (``Chunk.url``: ROME sheet, France compétences fiche, real training).
    """
    out = []
    for chunk in chunks:
        excerpt = chunk.text if len(chunk.text) <= excerpt_chars else chunk.text[:excerpt_chars].rsplit(" ", 1)[0] + "…"
        title = f"{chunk.title} — {chunk.section}" if chunk.section and chunk.kind in ("study", "document") else chunk.title
        team = chunk.metadata.get("provenance") == "orientia" and not chunk.illustrative
        out.append(Citation(
            id=chunk.id, kind="orientia" if team else chunk.kind, title=title,
            source="Orientia" if team else chunk.source,
            excerpt=excerpt, illustrative=chunk.illustrative, url=None if team else chunk.url,
        ))
    return out
