"""The regional observatory: what people ask, where the offer does not answer, and feedback.

Each question leaves one structured record (who asks, for which job sheet and département, with
which constraints, what was answered and recommended, which constraint no training could meet),
never the raw text: the question is kept only after ``privacy.scrub`` and only when
``ORIENTIA_STORE_QUESTION_TEXT`` allows it. Conversations are referred to by a hash of their id.
Records and feedback expire after ``ORIENTIA_RETENTION_DAYS``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from .models import DEPARTMENTS, Answer, Profile
from .privacy import scrub
from .text import fold

__all__ = [
    "FEEDBACK_REASONS",
    "TOPICS",
    "Count",
    "DayCount",
    "ObservatoryFilters",
    "ObservatoryReport",
    "RecordView",
    "build_report",
    "conversation_key",
    "make_record",
    "parse_reason",
    "unmet_sentence",
]

#: Why an answer did not help: code -> the label the user reads.
FEEDBACK_REASONS: dict[str, str] = {
    "informations_fausses": "Les informations sont fausses",
    "sources_manquantes": "Il manque des sources",
    "formation_inadaptee": "La formation ne correspond pas à ma situation",
    "reponse_incomplete": "Réponse incomplète",
    "autre": "Autre",
}

#: What a question asks about (the intents of ``retrieval.detect_intents``), for a reader.
TOPICS: dict[str, str] = {
    "training": "Formations",
    "certification": "Certifications et blocs de compétences",
    "funding": "Financement",
    "impact": "Effets de l'IA sur les métiers",
    "definition": "Définitions",
    "study": "Étude régionale",
}

#: Under this count a public table merges a line into « autres », so no one can be singled out.
PUBLIC_MIN_COUNT = 5
OTHERS = "autres"

_IN_DEPARTMENT = {
    "02": "dans l'Aisne",
    "59": "dans le Nord",
    "60": "dans l'Oise",
    "62": "dans le Pas-de-Calais",
    "80": "dans la Somme",
}
_FORMAT = {"distanciel": "à distance", "présentiel": "en présentiel", "mixte": "en formation mixte"}
_CONSTRAINT_KEYS = {  # recommend.CONSTRAINT_LABELS, the other way round
    "le lieu": "department", "la modalité": "format", "la durée": "max_hours",
    "le budget": "max_price", "le financement": "funding", "la certification": "certifying",
}


def conversation_key(conversation_id: str) -> str:
    """What stored rows keep instead of the conversation id (the id is a credential)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def parse_reason(value: str | None) -> str | None:
    """A reason code from a code or a label (accents, case and spacing ignored); None if empty.

    Raises:
        ValueError: with a French message when the reason is not one of ``FEEDBACK_REASONS``.
    """
    if value is None or not value.strip():
        return None
    wanted = " ".join(fold(value).replace("_", " ").split())
    for code, label in FEEDBACK_REASONS.items():
        if wanted in (code.replace("_", " "), " ".join(fold(label).split())):
            return code
    choices = " ; ".join(f"« {label} »" for label in FEEDBACK_REASONS.values())
    raise ValueError(f"Raison inconnue. Choisissez parmi : {choices}.")


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def unmet_sentence(profile: Profile) -> str:
    """The stated constraints no training meets together, as one French sentence.

    >>> unmet_sentence(Profile(format="distanciel", max_hours=14, department="02"))
    "aucune formation à distance d'au plus 14 h dans l'Aisne"
    """
    from .constraints import Constraints

    constraints = Constraints.of(profile)
    return "aucune" + constraints.describe()[len("une"):] if constraints else ""


def make_record(
    *,
    question: str,
    answer: Answer,
    conversation_id: str,
    turn: int,
    intents: set[str],
    mentioned_codes: set[str],
    relaxed: list[str],
    constraints_met: bool,
    retrieval_score: float | None,
    latency_ms: float,
    store_text: bool,
) -> dict[str, Any]:
    """The observatory row of one answered (or declined) question: codes, no free text.

    Args:
        question: the question as typed; kept only scrubbed, and only when ``store_text``.
        answer: the answer given.
        conversation_id: its conversation (stored as a hash).
        turn: the number of this question in its conversation (1 for the first).
        intents: what the question asks about (``retrieval.detect_intents``).
        mentioned_codes: certification and bloc codes written in the question.
        relaxed: the constraints (French labels of ``recommend.CONSTRAINT_LABELS``) that the
            best recommended training had to relax.
        constraints_met: False when no training met every stated constraint.
        retrieval_score: the best dense similarity (or fused score) of the passages retrieved.
        latency_ms: how long the answer took.
        store_text: whether the scrubbed question text may be kept.
    """
    profile = answer.profile
    constraints = {
        k: v for k, v in profile.model_dump(
            mode="json", include={"format", "max_hours", "max_price", "funding", "certifying"}
        ).items() if v not in (None, [])
    }
    certifications = {code for code in mentioned_codes if "BC" not in code}
    if "certification" in intents:
        certifications |= {c.code for c in answer.certifications}
    unmet = ""
    if not constraints_met:
        unmet = unmet_sentence(profile)
    return {
        "conversation_key": conversation_key(conversation_id),
        "turn": turn,
        "audience": profile.audience,
        "role": profile.role,
        "role_label": profile.role_label,
        "rome_code": profile.rome_code,
        "sector": profile.sector,
        "department": profile.department,
        "language": answer.language,
        "answered": answer.answered,
        "retrieval_score": retrieval_score,
        "latency_ms": round(latency_ms, 1),
        "unmet": unmet,
        "data": {
            "constraints": constraints,
            "topics": sorted(intents & TOPICS.keys()),
            "certifications": sorted(certifications),
            "source_kinds": sorted({c.kind for c in answer.citations}),
            "trainings": [t.id for t in answer.trainings],
            "relaxed": sorted({_CONSTRAINT_KEYS.get(r, r) for r in relaxed}),
        },
        "question": scrub(question)[:1000] if store_text else None,
    }


# -- Reading ---------------------------------------------------------------------------------------


class ObservatoryFilters(BaseModel):
    """Which records a report covers: the last ``period_days`` days, a département, an audience."""

    period_days: int | None = Field(default=None, ge=1, le=3650)
    department: str | None = None
    audience: str | None = None

    def since(self, now: datetime | None = None) -> datetime | None:
        if self.period_days is None:
            return None
        return (now or datetime.now(UTC)) - timedelta(days=self.period_days)


class Count(BaseModel):
    """One line of a table: a code, what a reader sees, how many."""

    key: str
    label: str
    count: int


class DayCount(BaseModel):
    day: str  # ISO date, or "autres" in a public view
    questions: int
    answered: int


class RecordView(BaseModel):
    """A record as an admin sees it: no conversation key, no row id, question already scrubbed."""

    created_at: datetime
    audience: str | None
    role_label: str | None
    rome_code: str | None
    sector: str | None
    department: str | None
    constraints: dict[str, Any]
    topics: list[str]
    source_kinds: list[str]
    trainings: list[str]
    answered: bool
    unmet: str
    retrieval_score: float | None
    latency_ms: float
    question: str | None


class ObservatoryReport(BaseModel):
    """Everything the dashboard shows, for the JSON API and the page."""

    public: bool
    filters: ObservatoryFilters
    questions_total: int
    answered_total: int
    unanswered_total: int
    feedback_total: int
    useful_total: int
    not_useful_total: int
    #: useful / feedback, None without feedback
    useful_rate: float | None
    #: feedback / questions, None without questions
    feedback_rate: float | None
    by_day: list[DayCount]
    by_audience: list[Count]
    by_family: list[Count]
    by_job: list[Count]
    by_department: list[Count]
    topics: list[Count]
    certifications: list[Count]
    trainings: list[Count]
    source_kinds: list[Count]
    unmet: list[Count]
    relaxed: list[Count]
    feedback_reasons: list[Count]
    #: recent records (admin view only; empty in the public view)
    questions: list[RecordView]
    #: recent unanswered records (admin view only)
    unanswered: list[RecordView]


def _counts(counter: Counter, labels: dict[str, str] | None = None, *, limit: int | None = None) -> list[Count]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if limit is not None:
        items = items[:limit]
    return [Count(key=k, label=(labels or {}).get(k, k), count=n) for k, n in items]


def _merge_small(items: list[Count]) -> list[Count]:
    """Public views: lines under ``PUBLIC_MIN_COUNT`` become one « autres » line, itself left
    out when it is still under ``PUBLIC_MIN_COUNT``."""
    kept = [c for c in items if c.count >= PUBLIC_MIN_COUNT]
    small = sum(c.count for c in items if c.count < PUBLIC_MIN_COUNT)
    if small >= PUBLIC_MIN_COUNT:
        kept.append(Count(key=OTHERS, label=OTHERS, count=small))
    return kept


def _view(row: dict[str, Any]) -> RecordView:
    data = row["data"]
    return RecordView(
        created_at=row["created_at"], audience=row["audience"], role_label=row["role_label"],
        rome_code=row["rome_code"], sector=row["sector"], department=row["department"],
        constraints=data.get("constraints", {}), topics=data.get("topics", []),
        source_kinds=data.get("source_kinds", []), trainings=data.get("trainings", []),
        answered=row["answered"], unmet=row["unmet"] or "", retrieval_score=row["retrieval_score"],
        latency_ms=row["latency_ms"] or 0.0, question=row["question"],
    )


def build_report(
    store,
    filters: ObservatoryFilters,
    *,
    public: bool,
    training_titles: dict[str, str] | None = None,
    family_labels: dict[str, str] | None = None,
    recent: int = 50,
    now: datetime | None = None,
) -> ObservatoryReport:
    """Aggregate the records and feedback that ``filters`` select.

    Args:
        store: the ``Store``.
        filters: period, département, audience.
        public: the aggregated-only view (small counts merged, no records, no question text).
        training_titles: training id -> title, for the table of recommended trainings.
        family_labels: job family (``Role.sector``) -> its name, for the table of families.
        recent: how many recent records the admin view lists.
        now: the current time (tests).
    """
    since = filters.since(now)
    rows = store.load_observations(since=since, department=filters.department, audience=filters.audience)
    # The lists of codes are counted by the database (one row per code, store.observation_codes).
    coded = store.count_observation_codes(since=since, department=filters.department, audience=filters.audience)
    by_answer = {(r["conversation_key"], r["turn"]): r for r in rows}
    opinions = store.load_feedback(since=since)
    if filters.department or filters.audience:
        opinions = [f for f in opinions if (f["conversation_key"], f["turn"]) in by_answer]

    days: dict[str, list[int]] = {}
    audience, family, job, department, unmet = (Counter[str]() for _ in range(5))
    topics, certs, trainings, kinds, relaxed = (
        Counter[str](coded.get(name, {}))
        for name in ("topics", "certifications", "trainings", "source_kinds", "relaxed")
    )
    job_labels: dict[str, str] = {}
    for row in rows:
        day = days.setdefault(row["created_at"].date().isoformat(), [0, 0])
        day[0] += 1
        day[1] += bool(row["answered"])
        audience[row["audience"] or "inconnu"] += 1
        family[row["sector"] or "non précisé"] += 1
        if row["rome_code"]:
            job[row["rome_code"]] += 1
            job_labels[row["rome_code"]] = f"{row['role_label'] or row['rome_code']} ({row['rome_code']})"
        department[row["department"] or "non précisé"] += 1
        if row["unmet"]:
            unmet[row["unmet"]] += 1
    useful = sum(1 for f in opinions if f["useful"])
    reasons = Counter(f["reason"] for f in opinions if not f["useful"] and f["reason"])

    department_labels = {code: f"{name} ({code})" for code, name in DEPARTMENTS.items()}
    # Every département appears, even at zero: the chart compares the five.
    for code in DEPARTMENTS:
        department.setdefault(code, 0)
    by_department = [
        Count(key=k, label=department_labels.get(k, k), count=department[k])
        for k in [*DEPARTMENTS, *(k for k in department if k not in DEPARTMENTS)]
    ]
    by_day = [DayCount(day=d, questions=q, answered=a) for d, (q, a) in sorted(days.items())]
    relaxed_labels = {v: k for k, v in _CONSTRAINT_KEYS.items()}
    tables = {
        "by_audience": _counts(audience),
        "by_family": _counts(family, family_labels),
        "by_job": _counts(job, job_labels, limit=None if public else 30),
        "by_department": by_department,
        "topics": _counts(topics, TOPICS),
        "certifications": _counts(certs, limit=None if public else 30),
        "trainings": _counts(trainings, {k: f"{v} ({k})" for k, v in (training_titles or {}).items()}, limit=None if public else 30),
        "source_kinds": _counts(kinds),
        "unmet": _counts(unmet, limit=None if public else 30),
        "relaxed": _counts(relaxed, relaxed_labels),
        "feedback_reasons": _counts(reasons, FEEDBACK_REASONS),
    }
    if public:
        tables = {name: _merge_small(items) for name, items in tables.items()}
        small = [d for d in by_day if d.questions < PUBLIC_MIN_COUNT]
        by_day = [d for d in by_day if d.questions >= PUBLIC_MIN_COUNT]
        if sum(d.questions for d in small) >= PUBLIC_MIN_COUNT:
            by_day.append(DayCount(
                day=OTHERS, questions=sum(d.questions for d in small), answered=sum(d.answered for d in small)
            ))
    answered = sum(1 for r in rows if r["answered"])
    newest = sorted(rows, key=lambda r: r["created_at"], reverse=True)
    return ObservatoryReport(
        public=public,
        filters=filters,
        questions_total=len(rows),
        answered_total=answered,
        unanswered_total=len(rows) - answered,
        feedback_total=len(opinions),
        useful_total=useful,
        not_useful_total=len(opinions) - useful,
        useful_rate=round(useful / len(opinions), 3) if opinions else None,
        feedback_rate=round(len(opinions) / len(rows), 3) if rows else None,
        by_day=by_day,
        questions=[] if public else [_view(r) for r in newest[:recent]],
        unanswered=[] if public else [_view(r) for r in newest if not r["answered"]][:recent],
        **tables,
    )


def purge(store, *, retention_days: float, conversation_ttl_hours: float, now: datetime | None = None) -> dict[str, int]:
    """Delete expired conversations, observatory records and feedback; returns the counts."""
    now = now or datetime.now(UTC)
    records, opinions = store.purge_observatory(before=now - timedelta(days=retention_days))
    conversations = store.purge_conversations(max_age_hours=conversation_ttl_hours)
    return {"records": records, "feedback": opinions, "conversations": conversations}
