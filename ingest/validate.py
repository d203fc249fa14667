"""Checks across records: duplicates and references between files."""

from __future__ import annotations

from collections import Counter

from assistant.models import Certification, Role, StudySection, Training

from .loaders import LoadedRecord
from .problems import Problem

__all__ = ["cross_check"]


def cross_check(loaded: list[LoadedRecord]) -> list[Problem]:
    """Problems that only show when all files are read together."""
    problems: list[Problem] = []
    counts = Counter(r.key for r in loaded)
    seen: set[str] = set()
    for r in loaded:
        if counts[r.key] > 1 and r.key not in seen:
            seen.add(r.key)
            files = sorted({x.source_file for x in loaded if x.key == r.key})
            problems.append(Problem(
                file=r.source_file, record=r.ident,
                reason=f"identifiant en double (aussi dans : {', '.join(files)})",
            ))
    certs = {r.record.code: r.record for r in loaded if isinstance(r.record, Certification)}
    families = {r.record.id for r in loaded if isinstance(r.record, StudySection) and r.record.type == "famille"}
    for r in loaded:
        rec = r.record
        if isinstance(rec, Training) and rec.certification_code:
            cert = certs.get(rec.certification_code)
            if cert is None:
                # A real offer (imported from Mon Compte Formation or LHÉO) may prepare any of the
                # thousands of registered certifications, not only the bundled ones.
                if rec.illustrative:
                    problems.append(Problem(
                        file=r.source_file, record=rec.id,
                        reason=f"la certification {rec.certification_code} n'existe pas dans les certifications",
                    ))
                continue
            known = {b.code for b in cert.blocs}
            for bloc in rec.blocs:
                if bloc not in known:
                    problems.append(Problem(
                        file=r.source_file, record=rec.id,
                        reason=f"le bloc {bloc} n'appartient pas à la certification {cert.code}",
                    ))
            if cert.status == "inactive":
                problems.append(Problem(
                    file=r.source_file, record=rec.id,
                    reason=f"la certification {cert.code} n'est plus active",
                ))
        if isinstance(rec, Training) and "cpf" in rec.funding and not rec.certification_code:
            problems.append(Problem(
                file=r.source_file, record=rec.id,
                reason="financement CPF indiqué pour une formation non certifiante",
            ))
        if isinstance(rec, Role) and families and rec.sector is not None and rec.sector not in families:
            problems.append(Problem(
                file=r.source_file, record=rec.id,
                reason=f"famille de métiers inconnue : {rec.sector}",
            ))
    return problems
