"""Rank trainings and certification blocs for a profile, with reasons in French.

Hard constraints first: a training that breaks a stated constraint (place, mode, hours, price,
funding, certifying) never ranks above one that meets them all. Distance learning meets any
place. Then relevance to the question and the job (fused retrieval rank, target ROME code), then
practical fit (certifying, a session soon, funding routes).
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date

from .constraints import CONSTRAINT_LABELS, Constraints
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

__all__ = ["Recommender", "Recommendation", "violations", "CONSTRAINT_LABELS"]

def violations(training: Training, profile: Profile) -> list[str]:
    """The profile constraints that ``training`` breaks (see ``Constraints.violations``)."""
    return Constraints.of(profile).violations(training)


@dataclass
class Recommendation:
    """Ranked trainings and certifications for one question."""

    trainings: list[TrainingSummary] = field(default_factory=list)
    certifications: list[CertificationSummary] = field(default_factory=list)
    all_constraints_met: bool = True
    matching_count: int = 0
    #: what was asked and could not be met, in French (« une formation à distance … »)
    unmet: str = ""
    #: no training of the catalogue targets the learners' job family
    off_topic: bool = False


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
        required: AbstractSet[str] = frozenset(),
    ) -> Recommendation:
        """Rank trainings for ``profile``.

        Args:
            required: constraints never relaxed, even when nothing meets them all (« moins
                cher » after a list: nothing dearer than what was shown is offered again).
        """
        today = today or date.today()
        constraints = Constraints.of(profile)
        where = constraints.where()
        broken_by = {t.id: constraints.violations(t) for t in kb.trainings.values()}
        matching = {f"training:{tid}" for tid, broken in broken_by.items() if not broken}
        job = kb.roles.get(profile.target_role or profile.role or "")
        sector = job.sector if job is not None else profile.sector
        sector_codes = _sector_codes(kb, sector) if sector else frozenset()
        job_code = job.rome_code if job is not None else profile.rome_code
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
            if job_code and job_code in t.rome_codes:
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
        # For a known job, only trainings aimed at its family or at everyone (AI literacy):
        # a warehouse course is no answer to a driver.
        result = Recommendation(matching_count=len(matching))
        if job_code or sector:
            def fits_job(t: Training) -> bool:
                # Aimed at everyone, at the job itself or at its professional domain (the
                # first three characters of a ROME code, e.g. J15 for care jobs).
                if not t.rome_codes:
                    return True
                if job_code is not None:
                    return any(c[:3] == job_code[:3] for c in t.rome_codes)
                return bool(sector_codes & set(t.rome_codes))
            on_topic = [t for t in ranked if fits_job(t)]
            result.off_topic = not any(t.rome_codes for t in on_topic)
            ranked = on_topic
        elif profile.audience == "eleve":
            # A pupil has no trade yet: courses made for one (a warehouse course, a teachers'
            # course) are not theirs; AI literacy for everyone is.
            ranked = [t for t in ranked if not t.rome_codes] or ranked
        # A training meant for others (a session for job seekers, offered to an employee or
        # a boss) is not theirs.
        learners = learners_of(profile)
        ranked = [t for t in ranked if not t.public or learners in t.public]
        fitting = [t for t in ranked if not broken_by[t.id]]
        if not fitting and constraints:
            result.unmet = constraints.describe()
        if not fitting and required:
            ranked = [t for t in ranked if not set(broken_by[t.id]) & set(required)]
        if not fitting and ranked:
            # The nearest options only: those relaxing the fewest constraints (one relaxing the
            # funding does not bring along one relaxing the funding and the duration).
            fewest = min(len(broken_by[t.id]) for t in ranked)
            ranked = [t for t in ranked if len(broken_by[t.id]) == fewest]
        if job_code and len([t for t in fitting if t.rome_codes]) >= 2:
            # Trainings made for the job family come first and alone when there are enough of
            # them; AI literacy for everyone comes when asked (« moins cher », « plus court »)
            # or when the family has too few.
            fitting = [t for t in fitting if t.rome_codes]
        ranked = (fitting or ranked)[:limit]
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
        elif t.department:
            parts.append(f"{t.format}, {DEPARTMENTS[t.department]} ({t.department}), commune non précisée")
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
        kb: KnowledgeBase, profile: Profile, trainings: list[Training], *, mentioned: AbstractSet[str] = frozenset()
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
        role = kb.roles.get(profile.role or "")
        if role is not None and len(chosen) < 3:
            # Blocs whose titles are close to the sheet's ROME skills (assistant/skillmatch.py).
            for match in _blocs_for_role(kb, role.id):
                cert = match.certification
                if cert.status == "inactive" or not (match.targeted or match.score >= 0.45):
                    continue  # a loose match would point a warehouse worker to IT blocs
                entry = chosen.setdefault(cert.code, (cert, [], "blocs proches des compétences de la fiche ROME"))
                if match.bloc.code not in entry[1]:
                    entry[1].append(match.bloc.code)
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


_BLOC_MATCHES: dict[tuple[int, str], list] = {}


def _blocs_for_role(kb: KnowledgeBase, role_id: str) -> list:
    """Blocs matching a sheet's skills, computed once per index version and sheet."""
    from .skillmatch import blocs_for_role

    key = (kb.version, role_id)
    if key not in _BLOC_MATCHES:
        if len(_BLOC_MATCHES) > 4096:
            _BLOC_MATCHES.clear()
        _BLOC_MATCHES[key] = blocs_for_role(kb.roles[role_id], list(kb.certifications.values()), limit=4)
    return _BLOC_MATCHES[key]


def _sector_codes(kb: KnowledgeBase, sector: str) -> frozenset[str]:
    """The ROME codes of a job family's roles."""
    return frozenset(r.rome_code for r in kb.roles.values() if r.sector == sector)


def learners_of(profile: Profile) -> str:
    """Who the people to be trained are (``Training.public``): a pupil, a job seeker, a
    self-employed person, a company head training themselves, else people in work (an HR
    team's or a boss's staff included)."""
    if profile.audience == "eleve":
        return "eleve"
    if profile.learners_are_asker is not False and profile.situation in ("demandeur_emploi", "independant"):
        return str(profile.situation)
    if profile.audience == "entreprise" and profile.learners_are_asker:
        return "dirigeant"
    return "salarie"
