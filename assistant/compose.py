"""Grounded French answers: extractive sentences from the sources, each with a numbered citation.

The writer never states what no passage says: every factual sentence ends with ``[n]``, ``n``
pointing at ``citations[n-1]``, and only cited passages are returned. Its phrases live in
``templates/phrases.yaml``.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .index import KnowledgeBase
from .models import Chunk, Citation, Profile
from .recommend import Recommendation
from .retrieval import Hit
from .scope import is_injection
from .text import de_job, fold

__all__ = ["AnswerWriter", "Draft", "GroundedWriter", "WriterInput", "phrases", "citation_markers"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«A-ZÀÂÉÈÊÎÔÛÇ0-9])")
_WORD = re.compile(r"\w{3,}")
_MARKER = re.compile(r"\[(\d+)\]")


@lru_cache(maxsize=1)
def phrases() -> dict:
    """The writer's French phrases (``templates/phrases.yaml``)."""
    path = Path(__file__).parent / "templates" / "phrases.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


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


@dataclass
class Draft:
    """An answer text and the passages it cites, in citation order."""

    text: str
    chunks: list[Chunk] = field(default_factory=list)
    next_step: str = ""


class AnswerWriter(abc.ABC):
    """Writes the answer from the sources."""

    @abc.abstractmethod
    def write(self, data: WriterInput) -> Draft:
        """Compose an answer whose every ``[n]`` refers to ``Draft.chunks[n-1]``."""


def _stems(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(fold(text))}


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s*\n\s*[-*]\s+", " ; ", text)
    flat = re.sub(r"\s+", " ", flat).strip()
    return [s.strip() for s in _SENTENCE_END.split(flat) if len(s.strip()) > 20]


def best_sentences(chunk: Chunk, question: str, *, limit: int = 2, audience: str | None = None) -> list[str]:
    """The sentences of a passage that share most with the question, in passage order."""
    # Instructions planted in a document are never repeated to the user.
    sentences = [s for s in _sentences(chunk.text) if not is_injection(s)]
    if not sentences:
        return [] if is_injection(chunk.text) else [chunk.text.strip()]
    wanted = _stems(question) | _stems(chunk.section)
    scored = []
    for position, sentence in enumerate(sentences):
        overlap = len(_stems(sentence) & wanted)
        length_penalty = 0.5 if audience == "eleve" and len(sentence) > 220 else 0.0
        scored.append((overlap - length_penalty - position * 0.05, position, sentence))
    chosen = sorted(scored, reverse=True)[:limit]
    return [s for _, _, s in sorted(chosen, key=lambda x: x[1])]


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
        p = phrases()
        kb, profile = data.kb, data.profile
        audience = profile.audience
        cites = _Citations()
        lines: list[str] = []
        role = kb.roles.get(profile.role) if profile.role else None
        rec = data.recommendation
        has_trainings = rec is not None and bool(rec.trainings)
        focus = data.focus if data.focus in self._ORDER else None
        if focus == "training" and not has_trainings:
            focus = None
        order = self._ORDER[focus]

        if role is not None:
            key = "role_eleve" if audience == "eleve" else "role"
            lines.append(p["intro"][key].format(de_role=de_job(role.label)))
        elif audience in ("eleve", "rh", "entreprise"):
            lines.append(p["intro"][audience])
        else:
            lines.append(p["intro"]["default"])

        # Knowledge passages (study, role, guide, certifications): the role's own record and its
        # family's section are written by the role section.
        covered: set[str] = set()
        if role is not None:
            covered |= {f"role:{role.id}", f"study:{role.sector}"}
        if focus == "training":
            max_passages = 1
        elif has_trainings and focus != "funding":
            max_passages = 2
        else:
            max_passages = 3
        passages: list[Chunk] = []
        for hit in data.hits:
            key = hit.chunk.record_key
            if hit.chunk.kind == "training" or key in covered or (hit.chunk.kind == "role" and role is not None):
                continue
            passages.append(hit.chunk)
            covered.add(key)
            if len(passages) >= max_passages:
                break

        def role_section(_position: int) -> None:
            if role is None:
                # No job named, but a sector: what AI changes in it, unless a passage below says it.
                family = self._family_passage(kb, profile.sector, data.question) if profile.sector else None
                if family is not None and family.record_key not in covered:
                    self._family_line(lines, family, data, cites, limit=1, new_paragraph=True)
                return
            self._role(
                lines, role, data, cites, p, brief=focus is not None or audience == "eleve",
                with_family=focus != "training",
            )

        def passages_section(position: int) -> None:
            if not passages:
                return
            lines.append("")
            if position > 0:
                lines.append(f"## {p['headings']['funding'] if 'funding' in data.intents else p['headings']['more']}")
            for chunk in passages:
                limit = 1 if audience == "eleve" else 2
                text = " ".join(best_sentences(chunk, data.question, limit=limit, audience=audience))
                if text:
                    lines.append(f"{text} {cites.cite(chunk)}")

        def trainings_section(_position: int) -> None:
            if not has_trainings:
                return
            lines.append("")
            heading = p["headings"]["trainings_rh"] if audience == "rh" else p["headings"]["trainings"]
            lines.append(f"## {heading}")
            if not rec.all_constraints_met:
                lines.append(p["relaxed"].strip())
            for t in rec.trainings:
                chunk = kb.passages(f"training:{t.id}")[0]
                label = f" ({p['example_label']})" if t.illustrative else ""
                relaxed = f" — assouplit {', '.join(t.relaxed)}" if t.relaxed else ""
                refs = cites.cite(chunk)
                # Asked for certifying trainings: the bloc each one prepares, cited where it is named.
                prepared = self._prepared_passage(kb, t) if profile.certifying else None
                if prepared is not None:
                    refs += cites.cite(prepared)
                lines.append(f"- « {t.title} », {t.provider}{label} : {t.why}{relaxed}. {refs}")

        def certifications_section(_position: int) -> None:
            self._certifications(lines, rec, kb, cites, p)

        sections = {
            "role": role_section, "passages": passages_section,
            "trainings": trainings_section, "certifications": certifications_section,
        }
        for position, name in enumerate(order):
            sections[name](position)

        next_step = self.next_step(profile)
        lines.append("")
        lines.append(f"## {p['headings']['next_step']}")
        lines.append(next_step)
        return Draft(text="\n".join(lines).strip(), chunks=cites.chunks, next_step=next_step)

    def _role(self, lines, role, data: WriterInput, cites, p, *, brief: bool, with_family: bool = True) -> None:
        """What AI changes for the asker's job: exposure, skills, the family's study section."""
        kb = data.kb
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
        else:
            note_ref = cites.cite(note)
            if role.ai_exposure is not None:
                lines.append(p["exposure_line"].format(exposure=p["exposure_labels"][role.ai_exposure]) + f" {note_ref}")
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
    def _certifications(lines, rec, kb, cites, p) -> None:
        if rec is None or not rec.certifications:
            return
        lines.append("")
        lines.append(f"## {p['headings']['certifications']}")
        for cert in rec.certifications:
            chunk = kb.passages(f"certification:{cert.code}")[0]
            label = f" ({p['example_cert_label']})" if cert.illustrative else ""
            blocs = ""
            if cert.blocs:
                blocs = " — " + p["bloc_line"].format(blocs=" ; ".join(f"{b.code} « {b.title} »" for b in cert.blocs[:3]))
            lines.append(f"- {cert.code} « {cert.title} »{label}{blocs}. {cites.cite(chunk)}")

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
    def next_step(profile: Profile) -> str:
        steps = phrases()["next_steps"]
        if profile.audience in ("eleve", "rh", "entreprise"):
            return steps[profile.audience].strip()
        if "france_travail" in profile.funding:
            return steps["job_seeker"].strip()
        if "cpf" in profile.funding:
            return steps["cpf"].strip()
        return steps["default"].strip()


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
