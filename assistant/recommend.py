"""Rank trainings and certification blocs for a profile, with reasons in French.

Hard constraints first: a training that breaks a stated constraint (place, mode, hours, price,
funding, certifying) never ranks above one that meets them all. Distance learning meets any
place. Then relevance to the question and the job (fused retrieval rank, target ROME code), then
practical fit (certifying, a session soon, funding routes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .index import KnowledgeBase
from .models import (
    DEPARTMENTS,
    FUNDING_LABELS,
    Certification,
    CertificationSummary,
    Profile,
    Training,
    TrainingSummary,
)
from .retrieval import Retriever, Timings
from .text import de_job

__all__ = ["Recommender", "Recommendation", "violations", "chroma_where", "CONSTRAINT_LABELS"]

CONSTRAINT_LABELS = {
    "department": "le lieu",
    "format": "la modalité",
    "max_hours": "la durée",
    "max_price": "le budget",
    "funding": "le financement",
    "certifying": "la certification",
}


def violations(training: Training, profile: Profile) -> list[str]:
    """The profile constraints that ``training`` breaks (empty when it fits)."""
    broken = []
    if profile.department and training.format != "distanciel" and training.department != profile.department:
        broken.append("department")
    if profile.format and training.format != profile.format:
        broken.append("format")
    if profile.max_hours is not None and training.duration_hours > profile.max_hours:
        broken.append("max_hours")
    if profile.max_price is not None and training.price_eur > profile.max_price:
        broken.append("max_price")
    if profile.funding and not set(profile.funding) & set(training.funding):
        broken.append("funding")
    if profile.certifying is not None and bool(training.certification_code) != profile.certifying:
        broken.append("certifying")
    return broken


def chroma_where(profile: Profile) -> dict | None:
    """The same constraints as ``violations``, as a Chroma ``where`` filter on training chunks."""
    clauses: list[dict] = []
    if profile.department:
        clauses.append({"$or": [{"department": profile.department}, {"format": "distanciel"}]})
    if profile.format:
        clauses.append({"format": profile.format})
    if profile.max_hours is not None:
        clauses.append({"duration_hours": {"$lte": float(profile.max_hours)}})
    if profile.max_price is not None:
        clauses.append({"price_eur": {"$lte": float(profile.max_price)}})
    if profile.funding:
        options = [{f"fund_{code}": True} for code in profile.funding]
        clauses.append(options[0] if len(options) == 1 else {"$or": options})
    if profile.certifying is not None:
        clauses.append({"certifying": profile.certifying})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Recommendation:
    """Ranked trainings and certifications for one question."""

    trainings: list[TrainingSummary] = field(default_factory=list)
    certifications: list[CertificationSummary] = field(default_factory=list)
    all_constraints_met: bool = True
    matching_count: int = 0


def _hours(value: float) -> str:
    return f"{value:g}\u00a0h"


def _price(value: float) -> str:
    return "gratuite" if value == 0 else f"{value:,.0f}\u00a0€".replace(",", "\u202f")


class Recommender:
    """Turns retrieval results and a profile into ranked, explained recommendations."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def recommend(
        self,
        kb: KnowledgeBase,
        question: str,
        profile: Profile,
        *,
        vector: list[float],
        limit: int = 4,
        today: date | None = None,
        timings: Timings | None = None,
    ) -> Recommendation:
        today = today or date.today()
        where = chroma_where(profile)
        broken_by = {t.id: violations(t, profile) for t in kb.trainings.values()}
        matching = {f"training:{tid}" for tid, broken in broken_by.items() if not broken}
        sector_codes = _sector_codes(kb, profile.sector) if profile.sector else frozenset()
        query = self._query(question, profile, kb)
        if matching:
            hits = self.retriever.search(
                kb, query, k=40, kinds={"training"}, where=where,
                allowed_records=matching, vector=vector, timings=timings, depth=40,
            )
            relevance = {h.chunk.record_key: h.score for h in hits}
        else:
            # Nothing meets every constraint: rank all trainings for the relax-and-explain path.
            hits = self.retriever.search(
                kb, query, k=40, kinds={"training"}, vector=vector, timings=timings, depth=40,
            )
            relevance = {h.chunk.record_key: h.score * 0.5 for h in hits}

        codes = mentioned_codes(question)

        def sort_key(t: Training):
            broken = broken_by[t.id]
            score = relevance.get(f"training:{t.id}", 0.0)
            if codes and (t.certification_code in codes or codes & set(t.blocs)):
                score += 0.05
            if profile.rome_code and profile.rome_code in t.rome_codes:
                score += 0.02
            elif sector_codes & set(t.rome_codes):
                score += 0.008
            if t.certification_code:
                score += 0.002
            upcoming = [s for s in t.sessions if s >= today]
            if upcoming and (min(upcoming) - today).days <= 90:
                score += 0.001
            if profile.funding and set(profile.funding) & set(t.funding):
                score += 0.001
            return (len(broken), -score)

        # Every training is a candidate: the sort puts all that meet the constraints first. When
        # some meet them all, only those are shown; otherwise the closest, each naming what it relaxes.
        ranked = sorted(kb.trainings.values(), key=sort_key)
        fitting = [t for t in ranked if not broken_by[t.id]]
        ranked = (fitting or ranked)[:limit]
        # For a known job, keep the trainings aimed at its family (or at everyone): two good
        # proposals beat four with off-topic ones.
        if profile.sector:
            on_topic = [t for t in ranked if not t.rome_codes or sector_codes & set(t.rome_codes)]
            ranked = on_topic or ranked[:1]
        result = Recommendation(matching_count=len(matching))
        for t in ranked:
            broken = broken_by[t.id]
            if broken:
                result.all_constraints_met = False
            result.trainings.append(
                TrainingSummary.from_training(
                    t, why=self.why(t, profile, kb, today=today),
                    relaxed=[CONSTRAINT_LABELS[b] for b in broken],
                )
            )
        result.certifications = self.certifications(
            kb, profile, [kb.trainings[t.id] for t in result.trainings], mentioned=codes
        )
        return result

    @staticmethod
    def _query(question: str, profile: Profile, kb: KnowledgeBase) -> str:
        parts = [question]
        if profile.role and profile.role in kb.roles:
            role = kb.roles[profile.role]
            parts.append(role.label)
            parts.extend(role.skills_to_build[:3])
        return " ".join(parts)

    @staticmethod
    def why(t: Training, profile: Profile, kb: KnowledgeBase, *, today: date) -> str:
        """A short French reason: how the training meets the profile."""
        parts = []
        if t.format == "distanciel":
            parts.append("à distance")
        elif t.city:
            parts.append(f"{t.format} à {t.city} ({t.department})")
        parts.append(_hours(t.duration_hours))
        parts.append(_price(t.price_eur))
        if profile.funding:
            shared = [FUNDING_LABELS[f] for f in profile.funding if f in t.funding]
            if shared:
                parts.append("finançable par " + " ou ".join(shared))
        elif "cpf" in t.funding:
            parts.append("éligible CPF")
        if t.certification_code:
            cert = kb.certifications.get(t.certification_code)
            if t.blocs:
                parts.append(f"prépare le bloc {t.blocs[0]} du {t.certification_code}" if len(t.blocs) == 1
                             else f"prépare {len(t.blocs)} blocs du {t.certification_code}")
            elif cert:
                parts.append(f"prépare la certification {t.certification_code}")
        if profile.rome_code and profile.rome_code in t.rome_codes and profile.role_label:
            parts.append(f"conçue pour le métier {de_job(profile.role_label)}")
        upcoming = sorted(s for s in t.sessions if s >= today)
        if upcoming:
            parts.append(f"prochaine session le {upcoming[0]:%d/%m/%Y}")
        if profile.department and t.format != "distanciel" and t.department != profile.department:
            parts.append(f"hors {DEPARTMENTS[profile.department]}")
        return ", ".join(parts)

    @staticmethod
    def certifications(
        kb: KnowledgeBase, profile: Profile, trainings: list[Training], *, mentioned: set[str] = frozenset()
    ) -> list[CertificationSummary]:
        """Certifications named in the question, whose blocs attest the job's skills, or that the
        recommended trainings prepare."""
        chosen: dict[str, tuple[Certification, list[str], str]] = {}
        for code in sorted(mentioned):
            cert = kb.certifications.get(code.split("BC")[0])
            if cert is not None and cert.code not in chosen:
                chosen[cert.code] = (cert, [c for c in mentioned if c.startswith(f"{cert.code}BC")], "citée dans la question")
        for t in trainings:
            if t.certification_code and t.certification_code in kb.certifications:
                cert = kb.certifications[t.certification_code]
                if cert.status != "active":
                    continue
                entry = chosen.setdefault(cert.code, (cert, [], f"préparée par « {t.title} »"))
                entry[1].extend(b for b in t.blocs if b not in entry[1])
        if profile.rome_code:
            for cert in kb.certifications.values():
                if cert.status == "active" and profile.rome_code in cert.rome_codes and cert.code not in chosen:
                    chosen[cert.code] = (cert, [], f"vise le métier {de_job(profile.role_label or profile.rome_code)}")
        if profile.certifying is False:
            return []
        out = []
        for cert, blocs, why in list(chosen.values())[:3]:
            shown = [b for b in cert.blocs if b.code in blocs] or cert.blocs
            out.append(CertificationSummary(
                code=cert.code, title=cert.title, level=cert.level, certifier=cert.certifier,
                status=cert.status, illustrative=cert.illustrative, blocs=shown, why=why,
            ))
        return out


def mentioned_codes(question: str) -> set[str]:
    """Certification and bloc codes written in a question (``RNCP37827``, ``RNCP37827BC02``)."""
    found = set()
    for code, bloc in re.findall(r"\b(RNCP\d{5}|RS\d{4})(BC\d{2})?\b", question.upper()):
        found.add(code)
        if bloc:
            found.add(code + bloc)
    return found


def _sector_codes(kb: KnowledgeBase, sector: str) -> frozenset[str]:
    """The ROME codes of a job family's roles."""
    return frozenset(r.rome_code for r in kb.roles.values() if r.sector == sector)
