"""The service object the web layer and the CLI call: questions, catalogue, sources."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from .compose import (
    AnswerWriter,
    Draft,
    WriterInput,
    asks_something,
    content_stems,
    phrases,
    picked_line,
    said_lines,
    to_citations,
)
from .config import Settings
from .constraints import Constraints
from .errors import BadRequest, NotFound, NotReady
from .index import Index, KnowledgeBase
from .models import (
    Answer,
    Certification,
    NextStep,
    Profile,
    Role,
    SourcePassage,
    Training,
    TrainingSummary,
    Turn,
)
from .privacy import scrub
from .quick_replies import suggest as suggest_quick_replies
from .recommend import Recommender
from .retrieval import Retriever, Timings, detect_focus, detect_intents
from .scope import is_injection, scope_rules
from .text import fold, plain
from .understanding import DialogueState, Event, Pending, Shown, Understanding
from .understanding.reading import Safety
from .understanding.state import PROFILE_SLOTS

__all__ = ["Assistant", "TrainingFilters", "AnswerTimings"]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
#: How many trainings a conversation's summary can keep.
MAX_KEPT = 20


def next_step_entries() -> list[dict]:
    """The next steps and contacts (``templates/next_steps.yaml``)."""
    import yaml

    path = Path(__file__).parent / "templates" / "next_steps.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


T = TypeVar("T")


def _storage_errors_said(method: Callable[..., T]) -> Callable[..., T]:
    """A full disk or an unreachable database while answering: the French error, not a crash."""
    import functools

    from .errors import storage_errors_said

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with storage_errors_said():
            return method(*args, **kwargs)

    return wrapper


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
        self.understanding = Understanding()
        #: record each question in the observatory (off for evaluation and benchmark runs)
        self.observing = True

    # -- state -------------------------------------------------------------------------------

    def knowledge(self) -> KnowledgeBase:
        kb = self.index.snapshot()
        if kb is None:
            raise NotReady(
                "La base de connaissances est en cours de préparation. Réessayez dans un instant.",
                log_message="No active index version yet",
            )
        return kb

    def answer_warm_up(self) -> None:
        """Load what the first question would otherwise wait for (the language pipeline)."""
        from .understanding.nlp import pipeline

        pipeline()
        kb = self.index.snapshot()
        if kb is not None:
            self.understanding.reader(kb)  # the title and commune indexes of this version

    def ready(self) -> bool:
        return self.index.snapshot() is not None

    # -- questions ---------------------------------------------------------------------------

    @_storage_errors_said
    def answer(
        self,
        question: str,
        *,
        conversation_id: str | None = None,
        profile: Profile | None = None,
        timings: AnswerTimings | None = None,
        on_text: Callable[[str], None] | None = None,
        trace: dict | None = None,
    ) -> Answer:
        """Answer a question with cited sources and recommendations.

        Args:
            question: the user's question, in French (or English).
            conversation_id: continue an earlier conversation; an unknown or expired id starts
                a new conversation with a new, server-issued id.
            profile: fields the person corrected by hand; they win over what is read.
            timings: filled with where the time went.
            on_text: called with each piece of text as a streaming writer (LLM) produces it;
                the returned answer is the checked one, which may differ (fallback).
            trace: filled with what retrieval did (``search_text``, ranked ``records``), for
                the evaluation to measure retrieval itself rather than the citations.

        Returns:
            The answer; ``answered`` is False when nothing in the knowledge base answers or
            the question is one Orientia must not answer (``refusal`` says which).
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
        state, conversation_id = self._conversation(conversation_id)
        previous_question, previous_turn = state.question, state.turn

        t0 = time.perf_counter()
        reading, events = self.understanding.update(question, state, kb, override=profile)
        timings.profile += (time.perf_counter() - t0) * 1000

        if reading.safety is None and is_injection(question):
            reading.safety = "secrets"
        if reading.safety is not None:
            answer = self._refusal(conversation_id, reading.safety, state, kb)
            return self._close_early(conversation_id, question, state, answer, timings, started, hits=(), intents=set())

        t0 = time.perf_counter()
        read = reading.text or question
        # « sorry, can you explain in English? »: the previous question, answered again in the
        # language asked (its sources may be given again: the answer is new to this reader).
        repeat = (
            bool(reading.language_request) and bool(previous_question) and not reading.jobs
            and not detect_intents(question) - {"definition"}  # (« Elements of AI en français, ça dure combien ? » asks)
        )
        if repeat:
            read = previous_question
        # The job titles as written (« aide-soignante ») and as the sheets name them say nothing of
        # what is asked: « aide » is no funding question, « formateur » no training request.
        job_names = [m.words for m in reading.jobs] + [
            kb.roles[e.value].label for e in events if e.slot.endswith("_job") and e.value in kb.roles
        ]
        intents = detect_intents(read, ignore=job_names)
        focus = detect_focus(read, ignore=job_names)
        # The constraints this turn changed; who asks is none (« nous les artisans » changes the
        # tone, not the list).
        changed = {e.slot for e in events if (e.slot in PROFILE_SLOTS and e.slot != "audience") or e.slot == "funding"}
        constraint_change = bool(changed)
        new_job = any(e.slot in ("asker_job", "learners_job", "target_job") for e in events)
        names_domain = bool(scope_rules()["domain_terms"].search(plain(read)))
        # A constraint said again (« dans l'Aisne uniquement », « dans l'Oise plutôt » while a
        # question is pending) refines the conversation even when it changes nothing.
        stated = {
            name for name, said in (
                ("department", reading.departments), ("format", reading.format), ("funding", reading.funding),
                ("max_price", reading.max_price is not None), ("max_hours", reading.max_hours is not None),
                ("certifying", reading.certifying is not None),
            ) if said
        }
        refines = previous_turn > 0 and bool(stated) and (
            not stated <= {"department"} or reading.instead or reading.elliptical or len(question.split()) <= 5
        )
        follow_up = not repeat and previous_turn > 0 and bool(previous_question) and (reading.correction or refines or _is_follow_up(
            question, constraint_change=constraint_change, new_job=new_job, reading=reading,
            names_domain=names_domain, place_only=constraint_change and changed <= {"department", "commune"},
        ))
        if constraint_change and focus == "funding" and not asks_something(read):
            # « finalement peu importe le CPF, mon employeur paie » states a payer: a change of
            # constraints, not a question about the CPF.
            focus = None
            intents.discard("funding")
        if follow_up and state.intents:
            intents |= set(state.intents)
        if follow_up and focus is None:
            focus = state.focus
        search_text = f"{previous_question} {read}" if follow_up else read
        if follow_up and not constraint_change and not new_job and asks_something(read):
            # « Qui a réalisé cette étude ? » after « quels secteurs sont les plus touchés ? »:
            # a question with a subject of its own is searched alone; the previous question
            # would crowd out its answer.
            if len(content_stems(read) - content_stems(previous_question)) >= 2:
                search_text = read

        vector = self.retriever.embed(search_text)
        timings.embed += (time.perf_counter() - t0) * 1000
        # Knowledge passages; trainings come from the recommender, which applies the constraints.
        # Job sheets and certifications answer questions about a job or a certification; a
        # general question (« c'est quoi l'IA ? ») is answered by the study and the guides.
        # Other jobs' sheets only when the question names a job or a ROME code: the known job's
        # own sheet is looked up, and other sheets would crowd out the passages that answer.
        kinds = {"study", "document", "certification"}
        if reading.jobs or re.search(r"\b[A-N]\d{4}\b", read.upper()):
            kinds.add("role")
        if state.job is None and not intents & {"certification"} and not reading.jobs:
            kinds = {"study", "document"}
        hits = self.retriever.search(
            kb, search_text, k=8, vector=vector, intents=intents, timings=timings,
            audience=state.audience, kinds=kinds,
        )
        if trace is not None:
            # What was found: the understood job sheet and its study family (a referential
            # lookup), then the retrieved passages.
            looked_up = []
            sheet = kb.roles.get(state.job or "")
            if sheet is not None:
                looked_up.append(f"role:{sheet.id}")
                if sheet.sector:
                    looked_up.append(f"study:{sheet.sector}")
            trace["search_text"] = search_text
            trace["records"] = list(dict.fromkeys([*looked_up, *(h.chunk.record_key for h in hits)]))
        unknown = reading.unknown_job or (reading.sector_words if state.job is None else None)
        # Words cut from personal data (« 06 12 34 », an e-mail) are no job: never echoed or stored.
        if unknown and not new_job and state.pending is None and unknown in scrub(question):
            self._ask_which_job(unknown, state, kb)
        merged = state.profile(kb.roles)

        if state.pending is not None:
            answer = Answer(
                conversation_id=conversation_id, answered=True, answer=state.pending.question,
                profile=merged, clarify=state.clarify(), language=state.language,
            )
            return self._close_early(conversation_id, question, state, answer, timings, started, hits=hits, intents=intents)

        # « la formation de Creil, ça coûte combien ? », « celle sur l'IA dans une petite
        # entreprise, c'est quand ? »: the one training shown that the question names
        # (« sorry, can you explain in English? » after one: the previous question's reading)
        asked = self.understanding.reader(kb).read(previous_question) if repeat else reading
        at = _named_training(asked, read, state.shown, kb) if asked.asks_facts else []
        if (asked.pick and not constraint_change or len(at) == 1) and state.shown and not new_job:
            # « laquelle est la plus courte ? »: one of the trainings just shown, named.
            attribute = "hours" if asked.pick == "shortest" else "price"
            best = min(state.shown, key=lambda s: getattr(s, attribute)) if asked.pick else at[0]
            training = kb.trainings.get(best.id)
            record = kb.passages(f"training:{best.id}")
            if training is not None and record:
                draft = picked_line(training, record[0], asked.pick or "named", language=state.language, today=date.today())
                answer = Answer(
                    conversation_id=conversation_id, answered=True, answer=draft.text, profile=merged,
                    citations=to_citations(draft.chunks), language=state.language,
                    trainings=[TrainingSummary.from_training(
                        training, why=self.recommender.why(training, merged, kb, today=date.today()),
                    )],
                )
                return self._close_early(
                    conversation_id, question, state, answer, timings, started, hits=hits, intents=intents, asked=question,
                )

        # A turn that opens like a continuation (« et faut être bon en maths ? ») stays in the
        # conversation's subject, however long: it is in scope even when no refinement.
        continues = previous_turn > 0 and reading.elliptical
        # « jsuis en terminale à Laon »: who asks, said before the question, is met as such.
        introduces = reading.audience is not None and not reading.audience_weak
        answered = self._in_scope(read if repeat else question, hits, merged, follow_up or new_job or continues or refines or introduces)
        names_job = any(m.whose != "other" for m in reading.jobs)
        if not answered and not names_domain and not names_job and not reading.social and not refines:
            # Nothing of the domain (« il fait beau demain ? », a recipe): out of scope, said
            # as such, and not one of the questions the regional offer leaves unanswered.
            answer = self._refusal(conversation_id, "off_topic", state, kb, phrase="out_of_scope")
            return self._close_early(conversation_id, question, state, answer, timings, started, hits=hits, intents=intents)
        if not answered:
            answer = Answer(
                conversation_id=conversation_id, answered=False,
                answer=" ".join(phrases(state.language)["declined"].split()), profile=merged,
                language=state.language,
            )
            return self._close_early(conversation_id, question, state, answer, timings, started, hits=hits, intents=intents)

        if (
            introduces and previous_turn == 0 and not reading.jobs and not asks_something(read) and not reading.asks_next_step
            # (« demandeur d'emploi » says « emploi »: no question about jobs)
            and not intents - {"impact"} and changed <= {"department", "commune", "situation"}
        ):
            # « jsuis en terminale à Laon », « je suis demandeur d'emploi à Lens »: nothing asked
            # yet; say what Orientia does for this person and ask what they want to know.
            welcome = phrases(state.language)["welcome"]
            key = state.situation if state.situation in welcome else state.audience
            answer = Answer(
                conversation_id=conversation_id, answered=True, profile=merged, language=state.language,
                answer=" ".join(welcome.get(key or "", welcome["salarie"]).split()),
            )
            return self._close_early(
                conversation_id, question, state, answer, timings, started, hits=hits, intents=intents, asked=question,
            )

        # A place alone in a question about something else asks for no training (« cuisto à
        # Étaples, l'IA va cuisiner à ma place ? »); with words of a search (« Python data
        # Beauvais ») or changing where the trainings already shown should be, it does.
        has_constraints = bool(Constraints.of(merged).model_copy(update={"department": None})) or (
            bool(merged.department) and (not asks_something(read) or (bool(state.shown) and "department" in changed))
        )
        wants_trainings = bool(intents & {"training"}) or merged.role is not None or has_constraints or reading.cheaper or reading.shorter
        if "definition" in intents and not intents & {"training"} and merged.role is None:
            wants_trainings = False
        if intents & {"study"} and not intents & {"training"} and not constraint_change:
            wants_trainings = False
        if state.audience == "eleve" and not intents & {"training"}:
            wants_trainings = False
        recommendation = None
        if wants_trainings:
            t0 = time.perf_counter()
            # « moins cher », « plus court »: relative to what was shown, never relaxed; the
            # other constraints may be, each relaxed one named.
            required = {"max_price"} if reading.cheaper else {"max_hours"} if reading.shorter else set()
            recommendation = self.recommender.recommend(
                kb, search_text, merged, vector=vector, timings=timings, required=required,
            )
            timings.recommend += (time.perf_counter() - t0) * 1000
            if trace is not None:
                found = [f"training:{t.id}" for t in recommendation.trainings]
                # In the order the answer gives them: trainings first when they are what is asked.
                trace["records"] = found + trace["records"] if focus == "training" else trace["records"] + found

        t0 = time.perf_counter()
        draft = self._write(WriterInput(
            question=question, read=read, profile=merged, intents=intents, hits=hits,
            recommendation=recommendation, kb=kb, focus=focus, language=state.language,
            cited_before=set(state.cited) if previous_turn and not repeat else set(),
            shown_before={s.id for s in state.shown} if follow_up else set(),
            said_before=set() if repeat else set(state.said), asks_next_step=reading.asks_next_step,
            follow_up=follow_up, named=frozenset(reading.nouns), told_before=set(state.told),
            # A change of constraints is news only with trainings to show (« c koi le cpf ? »
            # from a pupil names the CPF: it asks what it is).
            change=_change(
                reading, follow_up=follow_up, constraint_change=constraint_change or refines, new_job=new_job,
            ) if recommendation else None,
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
            language=state.language,
        )
        state.intents, state.focus = sorted(intents), focus
        state.told = list(dict.fromkeys([*state.told, *draft.told]))
        self._save(conversation_id, state, answer, asked=previous_question if repeat else question, chunks=draft.chunks, kb=kb)
        timings.total = (time.perf_counter() - started) * 1000
        # Observatory (issue 13): one structured, scrubbed record per question.
        self._observe(question, answer, timings, recommendation, hits=hits, intents=intents, turn=state.turn)
        answer = self._finish_turn(conversation_id, question, answer)  # thread + quick replies (issue 15)
        return answer

    def _close_early(
        self, conversation_id: str, question: str, state: DialogueState, answer: Answer, timings: AnswerTimings,
        started: float,
        *, hits, intents: set[str], asked: str | None = None,
    ) -> Answer:
        """End a turn answered without the writer (a refusal, a question back, a welcome): the
        state saved, the observatory told, the thread kept."""
        self._save(conversation_id, state, answer, asked=asked)
        timings.total = (time.perf_counter() - started) * 1000
        self._observe(question, answer, timings, None, hits=hits, intents=intents, turn=state.turn)
        return self._finish_turn(conversation_id, question, answer)

    def _conversation(self, conversation_id: str | None) -> tuple[DialogueState, str]:
        """The stored state of a conversation; unknown or expired ids start a new one.

        Ids are issued by the server (``secrets.token_urlsafe``): a client cannot choose one,
        so holding an id is what lets a client continue a conversation.
        """
        if conversation_id:
            stored = self.index.store.load_conversation(
                conversation_id, max_age_hours=self.settings.conversation_ttl_hours
            )
            if stored is not None and "turn" in stored:
                return DialogueState.model_validate(stored), conversation_id
        return DialogueState(), secrets.token_urlsafe(24)

    def start_conversation(self) -> str:
        """A new, empty conversation with a server-issued id (for a page that needs the id first)."""
        state, conversation_id = self._conversation(None)
        self.index.store.save_conversation(conversation_id, state.model_dump(mode="json"))
        return conversation_id

    def _ask_which_job(self, words: str, state: DialogueState, kb: KnowledgeBase) -> None:
        """A job title no referential knows: ask which of the nearest job sheets it is."""
        hits = self.retriever.search(kb, words, k=3, kinds={"role"}, depth=10)
        ids = [h.chunk.record_key.split(":", 1)[1] for h in hits]
        choices = {kb.roles[i].label: i for i in ids if i in kb.roles}
        if choices:
            text = phrases(state.language)["unknown_job"].format(words=scrub(words))
            state.apply(Event(turn=state.turn, op="set", slot="pending", value=Pending(
                slot="job", question=text, choices=choices,
            ).model_dump()))

    def _refusal(
        self, conversation_id: str, kind: Safety, state: DialogueState, kb: KnowledgeBase, *, phrase: str | None = None,
    ) -> Answer:
        """What Orientia says instead of answering: emergency numbers, a doctor, its scope.

        Args:
            phrase: the refusal's wording when it is not the kind's own (``out_of_scope``: a
                subject outside the domain rather than a task Orientia does not do).
        """
        text = " ".join(phrases(state.language)["refusals"][phrase or kind].split())
        log.info("Refused a question (%s)", kind)
        return Answer(
            conversation_id=conversation_id, answered=False, answer=text,
            profile=state.profile(kb.roles), refusal=kind, language=state.language,
        )

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

    def _in_scope(self, question: str, hits, profile: Profile, known_context: bool) -> bool:
        """Whether the knowledge base can answer: see ``templates/scope.yaml``."""
        scope = scope_rules()
        text = plain(question)
        if known_context or (profile.role and _POINTS_BACK.search(text)):
            # (a job known, « un risque de discrimination avec ces trucs-là ? » goes on about it;
            # « t'as une recette de carbonade ? » does not)
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

    def _save(
        self, conversation_id: str, state: DialogueState, answer: Answer, *, asked: str | None,
        chunks=(), kb: KnowledgeBase | None = None,
    ) -> None:
        """Store the conversation's state after a turn (what was shown, for the next turn)."""
        if asked is not None:
            # Scrubbed: the stored conversation keeps no personal data (issue 13).
            state.question = scrub(asked)
        if kb is not None:
            state.shown = [
                Shown(id=t.id, price=t.price_eur, hours=t.duration_hours) for t in answer.trainings
            ] or state.shown
            state.cited = list(dict.fromkeys([*state.cited, *(c.id for c in chunks)]))[-200:]
        state.said = said_lines(answer.answer) if answer.answered else []
        self.index.store.save_conversation(conversation_id, state.model_dump(mode="json"))

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
            profile = Profile.model_validate(dict(
                department=filters.department, format=filters.format, max_hours=filters.max_hours,
                max_price=filters.max_price, funding=filters.funding, certifying=filters.certifying,
            ))
        except ValueError as exc:
            raise BadRequest(f"Filtre invalide : {exc}") from exc
        constraints = Constraints.of(profile)
        items = [
            t for t in kb.trainings.values()
            if not constraints.violations(t) and (rome is None or rome in t.rome_codes)
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

    # -- observatory and feedback (issue 13) ---------------------------------------------------

    def _observe(self, question, answer: Answer, timings: AnswerTimings, recommendation, *, hits, intents, turn: int) -> None:
        """Record one question in the observatory; never lets a failure there break the answer."""
        if not self.observing:
            return
        from . import observatory
        from .recommend import mentioned_codes

        try:
            dense = [h.dense for h in hits if h.dense is not None]
            score = max(dense) if dense else max((h.score for h in hits), default=None)
            relaxed = recommendation.trainings[0].relaxed if recommendation and recommendation.trainings else []
            row = observatory.make_record(
                question=question, answer=answer, conversation_id=answer.conversation_id,
                turn=turn, intents=set(intents),
                mentioned_codes=mentioned_codes(question), relaxed=relaxed,
                constraints_met=recommendation is None or recommendation.all_constraints_met,
                retrieval_score=round(float(score), 4) if score is not None else None,
                latency_ms=timings.total, store_text=self.settings.store_question_text,
            )
            self.index.store.add_observation(row)
        except Exception:  # noqa: BLE001 - the observatory is secondary to the answer
            log.exception("Could not record the question in the observatory")

    def conversation_turns(self, conversation_id: str) -> int:
        """How many questions a live conversation has had (0 when unknown or expired)."""
        state = self.index.store.load_conversation(conversation_id, max_age_hours=self.settings.conversation_ttl_hours)
        state = state or {}
        return int(state.get("turn", state.get("turns", 0)))  # "turn" in the dialogue state

    def feedback(
        self, *, conversation_id: str, useful: bool, reason: str | None = None, comment: str = "", turn: int | None = None
    ) -> bool:
        """Record whether an answer helped; one opinion per answer, a new one replaces the old.

        Args:
            conversation_id: the conversation of the answer (it must be known and not expired).
            useful: whether the answer helped.
            reason: why not (a code or label of ``observatory.FEEDBACK_REASONS``); kept only
                when ``useful`` is False.
            comment: free text, stored scrubbed of personal data.
            turn: which answer of the conversation (1 for the first); the latest when omitted.

        Returns:
            True when this is the first opinion on that answer, False when it replaced one.
        """
        from . import observatory

        turns = self.conversation_turns(conversation_id)
        if not turns:
            raise NotFound("Conversation inconnue ou expirée : l'avis ne peut pas être enregistré.")
        if turn is None:
            turn = turns
        if not 1 <= turn <= turns:
            raise BadRequest(f"Réponse inconnue dans cette conversation (elle compte {turns} réponse(s)).")
        try:
            code = observatory.parse_reason(reason)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return self.index.store.save_feedback(
            conversation_key=observatory.conversation_key(conversation_id), turn=turn, useful=useful,
            reason=None if useful else code, comment=scrub((comment or "").strip())[:2000],
        )

    def observatory(self, filters, *, public: bool):
        """The observatory report for ``filters`` (``observatory.ObservatoryFilters``)."""
        from . import observatory

        kb = self.index.snapshot()
        titles = {tid: t.title for tid, t in kb.trainings.items()} if kb else {}
        families = {
            s.sector or s.id: s.title.removesuffix(" face à l'IA")
            for s in (kb.study.values() if kb else []) if s.type == "famille"
        }
        return observatory.build_report(
            self.index.store, filters, public=public, training_titles=titles, family_labels=families
        )

    def purge_expired(self) -> dict[str, int]:
        """Delete expired conversations, observatory records and feedback (run periodically)."""
        from . import observatory

        return observatory.purge(
            self.index.store, retention_days=self.settings.retention_days,
            conversation_ttl_hours=self.settings.conversation_ttl_hours,
        )

    # -- conversation thread, kept trainings, next steps (the chat pages, issue 15) ------------

    def _finish_turn(self, conversation_id: str, question: str, answer: Answer) -> Answer:
        """Offer quick replies when the dialogue chose none, and append the turn to the thread."""
        if not answer.quick_replies:
            answer = answer.model_copy(update={"quick_replies": suggest_quick_replies(answer.profile, answer)})
        self._record_turn(conversation_id, question, answer)
        return answer

    def _record_turn(self, conversation_id: str, question: str, answer: Answer) -> None:
        """Store the turn with personal data scrubbed from what the person typed.

        The answer is written from the knowledge base, so its own text is scrubbed only when the
        question held personal data (a writer may echo it); otherwise the public numbers it cites
        (Proch'Emploi's 0800 line) stay readable in the thread.
        """
        clean = scrub(question)
        stored = answer
        if clean != question:
            update: dict = {"answer": scrub(answer.answer)}
            if answer.clarify is not None:
                update["clarify"] = answer.clarify.model_copy(update={"question": scrub(answer.clarify.question)})
            stored = answer.model_copy(update=update)
        self.index.store.add_turn(conversation_id, question=clean, answer=stored.model_dump(mode="json"))

    def conversation_exists(self, conversation_id: str) -> bool:
        """Whether a conversation id is known and not expired."""
        return self._alive(conversation_id)

    def _alive(self, conversation_id: str) -> bool:
        return bool(conversation_id) and self.index.store.load_conversation(
            conversation_id, max_age_hours=self.settings.conversation_ttl_hours
        ) is not None

    def thread(self, conversation_id: str) -> list[Turn]:
        """The turns of a conversation, oldest first; none once it expired (or never existed)."""
        if not self._alive(conversation_id):
            return []
        return [Turn.model_validate(row) for row in self.index.store.load_turns(conversation_id)]

    def forget(self, conversation_id: str) -> None:
        """Delete a conversation's thread and kept trainings (« Nouvelle conversation »)."""
        self.index.store.forget_thread(conversation_id)

    def keep(self, conversation_id: str, training_ids: list[str]) -> list[str]:
        """Keep these trainings (replacing the previous choice) for the conversation's summary."""
        if not self._alive(conversation_id):
            raise NotFound("Conversation introuvable ou expirée : posez d’abord une question.")
        kb = self.knowledge()
        ids = list(dict.fromkeys(t for t in training_ids if t))[:MAX_KEPT]
        unknown = [t for t in ids if t not in kb.trainings]
        if unknown:
            raise BadRequest(f"Formation inconnue : {', '.join(unknown)}")
        self.index.store.save_selection(conversation_id, ids)
        return ids

    def kept(self, conversation_id: str) -> list[Training]:
        """The trainings kept from a conversation (gone from the catalogue: left out)."""
        if not self._alive(conversation_id):
            return []
        kb = self.knowledge()
        return [kb.trainings[t] for t in self.index.store.load_selection(conversation_id) if t in kb.trainings]

    def next_steps(self) -> list[NextStep]:
        """Who to contact next (``templates/next_steps.yaml``), each citing its passage."""
        kb = self.knowledge()
        steps = []
        for entry in next_step_entries():
            chunk = next(
                (c for c in kb.record_chunks.get(entry["record"], []) if entry["contains"] in c.text), None
            )
            if chunk is None:  # the corpus changed: leave the step out rather than cite nothing
                log.warning("Next step %r: no passage of %s contains its phrase", entry["name"], entry["record"])
                continue
            steps.append(NextStep(
                name=entry["name"], text=entry["text"], contact=entry["contact"],
                citation=to_citations([chunk])[0],
            ))
        return steps


#: words pointing back to what was just said (« ces trucs-là », « cette formation », « ça »)
_POINTS_BACK = re.compile(r"\b(ces|cet|cette|ca|cela|celle|celles|ceux|celui|dessus|la dedans)\b")


def _is_follow_up(
    question: str, *, constraint_change: bool, new_job: bool, reading, names_domain: bool = True, place_only: bool = False,
) -> bool:
    """A refinement of the previous question (« et à distance ? », « moins cher ? »).

    A turn that names a new job starts a new topic; one that changes constraints, asks for a
    relative change, or is a short continuation keeps the previous one. A short turn is a
    continuation when it opens like one or has no verb (« et dans l'Oise ? »), only thanks,
    or names something of the domain; a place alone in a full sentence of another subject
    (« il fait beau demain à Berck ? ») is no refinement.
    """
    if new_job:
        return False
    if reading.cheaper or reading.shorter or reading.dropped or reading.funding_dropped:
        return True
    if constraint_change and (not place_only or reading.elliptical or names_domain):
        return True
    return len(question.split()) <= 6 and (reading.elliptical or reading.social or names_domain)


def _change(reading, *, follow_up: bool, constraint_change: bool, new_job: bool = False) -> str | None:
    """What a follow-up changed, for the writer's first sentence."""
    if not follow_up:
        return None  # (« une formation pas chère ? » opening a conversation compares with nothing)
    if reading.cheaper:
        return "cheaper"
    if reading.shorter:
        return "shorter"
    if reading.correction and (new_job or not constraint_change):
        # (« plutôt à distance » changes a constraint: it is no correction of who asks)
        return "correction"
    if constraint_change:
        return "constraints"
    return None


def _named_training(reading, question: str, shown: list, kb) -> list:
    """The trainings just shown that a question names: by their town (« celle d'Amiens ») or,
    failing that, by the words of their title (« celle sur l'IA dans une petite entreprise »)."""
    from .understanding.lexicon import normalise_words

    trainings = [(s, t) for s in shown if (t := kb.trainings.get(s.id)) is not None]
    if reading.commune:
        return [s for s, t in trainings if fold(t.city or "").lower() == fold(reading.commune).lower()]
    asked = {w for w in normalise_words(question) if len(w) > 3} - _GENERIC_TITLE_WORDS
    scores = {s.id: len(asked & {w for w in normalise_words(t.title) if len(w) > 3}) for s, t in trainings}
    best = max(scores.values(), default=0)
    named = [s for s, _ in trainings if scores[s.id] == best]
    return named if best >= 2 and len(named) == 1 else []


#: words of nearly every training title: they name none of them
_GENERIC_TITLE_WORDS = frozenset({"formation", "format", "intelligence", "artificiel", "artificielle"})

