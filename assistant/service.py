"""The service object the web layer and the CLI call: questions, catalogue, sources."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from .compose import AnswerWriter, Draft, WriterInput, phrases, to_citations
from .config import Settings
from .errors import BadRequest, NotFound, NotReady
from .index import Index, KnowledgeBase
from .models import (
    Answer,
    Certification,
    Profile,
    Role,
    SourcePassage,
    Training,
    TrainingSummary,
)
from .profile import ProfileExtractor, merge_profiles
from .recommend import Recommender, violations
from .retrieval import Retriever, Timings, detect_focus, detect_intents
from .scope import scope_rules
from .text import plain

__all__ = ["Assistant", "TrainingFilters", "AnswerTimings"]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000


@dataclass
class TrainingFilters:
    """Catalogue filters (the query parameters of ``GET /api/trainings``)."""

    q: str = ""
    role: str | None = None
    department: str | None = None
    format: str | None = None
    max_hours: float | None = None
    max_price: float | None = None
    funding: list[str] = field(default_factory=list)
    certifying: bool | None = None


@dataclass
class AnswerTimings(Timings):
    """Where the time of one answer went, in milliseconds."""

    profile: float = 0.0
    recommend: float = 0.0
    compose: float = 0.0
    total: float = 0.0


class Assistant:
    """Question -> grounded answer, plus read access to the knowledge base.

    Args:
        settings: the application settings.
        index: the index to read (built from ``settings`` when omitted).
        writer: the answer writer (the grounded, offline one by default).
    """

    def __init__(self, settings: Settings, *, index: Index | None = None, writer: AnswerWriter | None = None) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        if writer is None:
            from .llm import make_writer

            writer = make_writer(settings)
        self.writer = writer
        self.retriever = Retriever(self.index)
        self.recommender = Recommender(self.retriever)
        self._extractors: dict[int, ProfileExtractor] = {}

    # -- state -------------------------------------------------------------------------------

    def knowledge(self) -> KnowledgeBase:
        kb = self.index.snapshot()
        if kb is None:
            raise NotReady(
                "La base de connaissances est en cours de préparation. Réessayez dans un instant.",
                log_message="No active index version yet",
            )
        return kb

    def ready(self) -> bool:
        return self.index.snapshot() is not None

    def extractor(self, kb: KnowledgeBase) -> ProfileExtractor:
        if kb.version not in self._extractors:
            self._extractors = {kb.version: ProfileExtractor(kb.roles, kb.places)}
        return self._extractors[kb.version]

    # -- questions ---------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        conversation_id: str | None = None,
        profile: Profile | None = None,
        timings: AnswerTimings | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question with cited sources and recommendations.

        Args:
            question: the user's question, in French (or English).
            conversation_id: continue an earlier conversation (its profile and recommendations).
            profile: fields that override what is extracted from the question.
            timings: filled with where the time went.
            on_text: called with each piece of text as a streaming writer (LLM) produces it;
                the returned answer is the checked one, which may differ (fallback).

        Returns:
            The answer; ``answered`` is False when nothing in the knowledge base answers.
        """
        timings = timings or AnswerTimings()
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            raise BadRequest(phrases()["empty_question"], log_message="Empty question")
        if len(question) > MAX_QUESTION_CHARS:
            raise BadRequest(
                f"La question est trop longue (plus de {MAX_QUESTION_CHARS} caractères). Posez-la en quelques phrases.",
                log_message="Question too long",
            )
        kb = self.knowledge()

        state = None
        if conversation_id:
            state = self.index.store.load_conversation(
                conversation_id, max_age_hours=self.settings.conversation_ttl_hours
            )
        conversation_id = conversation_id if state is not None else (conversation_id or uuid.uuid4().hex)
        previous = Profile.model_validate(state["profile"]) if state else None

        t0 = time.perf_counter()
        stated = self.extractor(kb).extract(question)
        merged = merge_profiles(previous, stated, profile)
        timings.profile += (time.perf_counter() - t0) * 1000

        intents = detect_intents(question)
        job_names = []
        if stated.role and stated.role in kb.roles:
            job_names = [kb.roles[stated.role].label, *kb.roles[stated.role].aliases]
        focus = detect_focus(question, ignore=job_names)
        follow_up = state is not None and _is_follow_up(question, stated)
        if follow_up and state.get("intents"):
            intents |= set(state["intents"])
        if follow_up and focus is None:
            focus = state.get("focus")
        search_text = question
        if follow_up and state.get("question"):
            search_text = f"{state['question']} {question}"

        t0 = time.perf_counter()
        vector = self.retriever.embed(search_text)
        timings.embed += (time.perf_counter() - t0) * 1000
        # Knowledge passages; trainings come from the recommender, which applies the constraints.
        hits = self.retriever.search(
            kb, search_text, k=8, vector=vector, intents=intents, timings=timings,
            audience=merged.audience, kinds={"study", "document", "role", "certification"},
        )

        answered = self._in_scope(question, hits, stated, follow_up)
        if not answered:
            answer = Answer(
                conversation_id=conversation_id, answered=False,
                answer=" ".join(phrases()["declined"].split()), profile=merged,
            )
            timings.total = (time.perf_counter() - started) * 1000
            self._save(conversation_id, question, merged, intents, answer, previous_state=state, focus=focus)
            return answer

        wants_trainings = bool(intents & {"training"}) or merged.role is not None or _has_constraints(merged)
        if "definition" in intents and not intents & {"training"} and merged.role is None:
            wants_trainings = False
        if intents & {"study"} and not intents & {"training"} and not _has_constraints(stated):
            wants_trainings = False
        recommendation = None
        if wants_trainings:
            t0 = time.perf_counter()
            recommendation = self.recommender.recommend(kb, search_text, merged, vector=vector, timings=timings)
            timings.recommend += (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        draft = self._write(WriterInput(
            question=question, profile=merged, intents=intents, hits=hits,
            recommendation=recommendation, kb=kb, focus=focus,
        ), on_text)
        timings.compose += (time.perf_counter() - t0) * 1000
        answer = Answer(
            conversation_id=conversation_id,
            answered=True,
            answer=draft.text,
            profile=merged,
            citations=to_citations(draft.chunks),
            trainings=recommendation.trainings if recommendation else [],
            certifications=recommendation.certifications if recommendation else [],
            next_step=draft.next_step,
        )
        self._save(conversation_id, question, merged, intents, answer, previous_state=state, focus=focus)
        timings.total = (time.perf_counter() - started) * 1000
        return answer

    def _write(self, data: WriterInput, on_text: Callable[[str], None] | None) -> Draft:
        stream = getattr(self.writer, "stream", None)
        if on_text is None or stream is None:
            return self.writer.write(data)
        final: Draft | None = None
        for item in stream(data):
            if isinstance(item, Draft):
                final = item
            else:
                on_text(item)
        assert final is not None, "a streaming writer ends with its Draft"
        return final

    def _in_scope(self, question: str, hits, stated: Profile, follow_up: bool) -> bool:
        """Whether the knowledge base can answer: see ``templates/scope.yaml``."""
        scope = scope_rules()
        text = plain(question)
        if scope["injection"].search(text):
            log.info("Declined a question that tries to change the assistant's instructions")
            return False
        if follow_up or stated.role:
            return True
        if self._answered_by_upload(hits):
            return True
        best_dense = max((h.dense for h in hits if h.dense is not None), default=0.0)
        if best_dense >= scope["dense_strong"]:
            return True
        return best_dense >= self.settings.answer_threshold and bool(scope["domain_terms"].search(text))

    def _answered_by_upload(self, hits) -> bool:
        """Admin-uploaded knowledge widens the scope (issue 12): a question is in scope when a
        passage of an uploaded document matches it both by meaning (dense similarity at or above
        ``ORIENTIA_ANSWER_THRESHOLD``) and by its words (a lexical hit). Safety refusals come first."""
        return any(
            h.chunk.metadata.get("uploaded") and h.lexical is not None
            and (h.dense or 0.0) >= self.settings.answer_threshold
            for h in hits
        )

    def _save(self, conversation_id, question, profile, intents, answer: Answer, *, previous_state, focus=None) -> None:
        state = {
            "profile": profile.model_dump(mode="json"),
            "question": question if answer.answered else (previous_state or {}).get("question", ""),
            "intents": sorted(intents),
            "focus": focus,
            "trainings": [t.id for t in answer.trainings],
            "turns": ((previous_state or {}).get("turns", 0)) + 1,
        }
        self.index.store.save_conversation(conversation_id, state)

    # -- catalogue -----------------------------------------------------------------------------

    def trainings(self, filters: TrainingFilters, *, limit: int = 20, offset: int = 0) -> tuple[int, list[TrainingSummary]]:
        """Trainings meeting every filter, most relevant first when ``q`` is given."""
        kb = self.knowledge()
        rome = None
        if filters.role:
            role = kb.roles.get(filters.role)
            if role is None:
                raise NotFound(f"Métier inconnu : {filters.role}")
            rome = role.rome_code
        try:
            profile = Profile(
                department=filters.department, format=filters.format, max_hours=filters.max_hours,
                max_price=filters.max_price, funding=filters.funding, certifying=filters.certifying,
            )
        except ValueError as exc:
            raise BadRequest(f"Filtre invalide : {exc}") from exc
        items = [
            t for t in kb.trainings.values()
            if not violations(t, profile) and (rome is None or rome in t.rome_codes)
        ]
        if filters.q.strip():
            hits = self.retriever.search(kb, filters.q, k=len(kb.chunks), kinds={"training"}, depth=100)
            order = {h.chunk.record_key.split(":", 1)[1]: i for i, h in enumerate(hits) if h.lexical is not None or (h.dense or 0) >= self.settings.answer_threshold}
            items = sorted((t for t in items if t.id in order), key=lambda t: order[t.id])
        else:
            items.sort(key=lambda t: t.id)
        today = date.today()
        page = items[offset: offset + limit]
        return len(items), [
            TrainingSummary.from_training(t, why=self.recommender.why(t, profile, kb, today=today))
            for t in page
        ]

    def training(self, training_id: str) -> Training:
        kb = self.knowledge()
        if training_id not in kb.trainings:
            raise NotFound(f"Formation introuvable : {training_id}")
        return kb.trainings[training_id]

    def certifications(self) -> list[Certification]:
        return sorted(self.knowledge().certifications.values(), key=lambda c: c.code)

    def certification(self, code: str) -> Certification:
        kb = self.knowledge()
        cert = kb.certifications.get(code.upper())
        if cert is None:
            raise NotFound(f"Certification introuvable : {code}")
        return cert

    def roles(self) -> list[Role]:
        return sorted(self.knowledge().roles.values(), key=lambda r: r.label)

    def role(self, role_id: str) -> Role:
        role = self.knowledge().roles.get(role_id)
        if role is None:
            raise NotFound(f"Métier introuvable : {role_id}")
        return role

    def source(self, chunk_id: str) -> SourcePassage:
        kb = self.knowledge()
        row = kb.chunk_rows.get(chunk_id)
        if row is None:
            raise NotFound(f"Source introuvable : {chunk_id}")
        chunk = kb.chunks[row]
        citation = to_citations([chunk])[0]
        return SourcePassage(**citation.model_dump(), text=chunk.text, record_key=chunk.record_key, section=chunk.section)

    def feedback(self, *, conversation_id: str | None, helpful: bool, comment: str) -> int:
        return self.index.store.add_feedback(conversation_id=conversation_id, helpful=helpful, comment=comment[:2000])


def _has_constraints(p: Profile) -> bool:
    return any([p.department, p.format, p.max_hours is not None, p.max_price is not None, p.funding, p.certifying is not None])


def _is_follow_up(question: str, stated: Profile) -> bool:
    """A short refinement of the previous question ("et à distance ?")."""
    from .text import fold

    text = fold(question).strip()
    short = len(text.split()) <= 12
    starts = text.startswith(("et ", "et,", "lesquel", "laquelle", "celles", "celle", "plutot", "mais ", "pour mon", "pour ma", "and ", "what about", "et si", "aussi", "sinon", "ou "))
    return short and (starts or _has_constraints(stated))
