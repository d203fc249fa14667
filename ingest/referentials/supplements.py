"""What Orientia's team adds to the official referentials, kept apart from them.

Three YAML files in ``knowledge/orientia/``, each a mapping with a ``kind``:

- ``job_notes``: per ROME code, the everyday names people use for the job (for matching), the
  team's summary of what AI changes and the skills to build — cited as Orientia;
- ``rome_to_study``: which study family (``famille-*``) covers a ROME domaine professionnel (or a
  single sheet, which wins over its domain); the AI exposure of a sheet is then the family's, shown
  as an Orientia estimate with its rule; a sheet outside the mapping has none;
- ``certification_notes``: what a certification fiche says that the CSV export does not (title,
  level, dates), each entry cited to the fiche it was read from.

They are applied to the records read in the same ingest (:func:`apply_supplements`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.models import Certification, Role, StudySection

from ..problems import Problem, problems_from_validation

__all__ = [
    "CertificationNotes",
    "JobNotes",
    "RomeToStudy",
    "SUPPLEMENT_KINDS",
    "apply_supplements",
    "load_supplement",
]

ORIENTIA_SOURCE = "Orientia — notes de l'équipe (repères rédigés par Orientia, pas par France Travail)"
_EXPOSURE_WORDS = {"forte": "forte", "moyenne": "moyenne", "faible": "faible"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class JobNote(_Strict):
    rome_code: str = Field(pattern=r"^[A-N]\d{4}$")
    #: the ids these notes had in the former hand-written roles.yaml
    legacy_ids: list[str] = Field(default_factory=list)
    everyday_names: list[str] = Field(default_factory=list)
    exposure_summary: str = ""
    skills_to_build: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=lambda: [ORIENTIA_SOURCE])


class JobNotes(_Strict):
    kind: Literal["job_notes"]
    notes: list[JobNote]


class RomeToStudy(_Strict):
    kind: Literal["rome_to_study"]
    #: the rule in words, shown with each estimate
    rule: str
    #: domaine professionnel (``M12``) or ROME code (``M1601``) -> study family id
    domains: dict[str, str]

    @field_validator("domains")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[A-N]\d{2}(\d{2})?", key):
                raise ValueError(f"clé invalide {key!r} : domaine (M12) ou code ROME (M1203) attendu")
        return value


class CertificationNote(_Strict):
    code: str
    title: str | None = None
    level: int | None = Field(default=None, ge=3, le=8)
    certifier: str | None = None
    validity_end: date | None = None
    status: Literal["active", "inactive"] | None = None
    audience: Literal["specialistes", "tous"] | None = None
    summary: str = ""
    rome_codes: list[str] = Field(default_factory=list)
    #: where the title and dates were read (the fiche)
    sources: list[str] = Field(min_length=1)


class CertificationNotes(_Strict):
    kind: Literal["certification_notes"]
    certifications: list[CertificationNote]


SUPPLEMENT_KINDS: dict[str, type[BaseModel]] = {
    "job_notes": JobNotes,
    "rome_to_study": RomeToStudy,
    "certification_notes": CertificationNotes,
}


def load_supplement(data: dict, *, file: str) -> tuple[BaseModel | None, list[Problem]]:
    """Validate a supplement file (a YAML mapping with ``kind``)."""
    model = SUPPLEMENT_KINDS[data["kind"]]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, file=file, record=str(data["kind"]))


def apply_supplements(loaded: list) -> tuple[list, list[Problem]]:
    """Apply the supplements to the roles and certifications read with them.

    Args:
        loaded: every ``LoadedRecord`` of the ingest, supplements included.

    Returns:
        The records without the supplements (they are not indexed on their own), and the
        problems found (a note for an unknown ROME code, a family that does not exist...).
    """
    supplements = [r for r in loaded if r.kind == "supplement"]
    records = [r for r in loaded if r.kind != "supplement"]
    problems: list[Problem] = []
    roles = {r.record.rome_code: r.record for r in records if isinstance(r.record, Role)}
    certs = {r.record.code: r.record for r in records if isinstance(r.record, Certification)}
    families = {
        r.record.id: r.record for r in records
        if isinstance(r.record, StudySection) and r.record.type == "famille"
    }
    for item in supplements:
        sup = item.record
        if isinstance(sup, RomeToStudy):
            problems.extend(_map_to_study(sup, roles, families, item.source_file))
        elif isinstance(sup, JobNotes):
            for note in sup.notes:
                role = roles.get(note.rome_code)
                if role is None:
                    if roles:
                        problems.append(Problem(file=item.source_file, record=note.rome_code, reason="code ROME absent des fiches importées"))
                    continue
                role.everyday_names = [n for n in note.everyday_names if n not in role.aliases]
                role.exposure_summary = note.exposure_summary
                role.skills_to_build = list(note.skills_to_build)
                role.note_sources = list(note.sources)
        elif isinstance(sup, CertificationNotes):
            for cert_note in sup.certifications:
                cert = certs.get(cert_note.code)
                if cert is None:
                    if certs:
                        problems.append(Problem(file=item.source_file, record=cert_note.code, reason="certification absente des fiches importées"))
                    continue
                for name in ("title", "level", "certifier", "validity_end", "status", "audience"):
                    value = getattr(cert_note, name)
                    if value is not None:
                        setattr(cert, name, value)
                if cert_note.summary:
                    cert.summary = cert_note.summary
                cert.rome_codes = list(dict.fromkeys([*cert.rome_codes, *cert_note.rome_codes]))
                cert.sources = list(dict.fromkeys([*cert.sources, *cert_note.sources]))
    return records, problems


def _map_to_study(mapping: RomeToStudy, roles: dict[str, Role], families: dict[str, StudySection], file: str) -> list[Problem]:
    problems = [
        Problem(file=file, record=key, reason=f"famille de l'étude inconnue : {family}")
        for key, family in mapping.domains.items() if families and family not in families
    ]
    for role in roles.values():
        key = role.rome_code if role.rome_code in mapping.domains else role.domain_code
        family_id = mapping.domains.get(key)
        family = families.get(family_id) if family_id else None
        if family is None:
            role.sector, role.ai_exposure, role.exposure_rule = None, None, ""
            continue
        role.sector = family.id
        role.ai_exposure = family.exposure
        where = f"la fiche {role.rome_code}" if key == role.rome_code else f"le domaine {key} « {role.domain_label} »"
        exposure = f"exposition {_EXPOSURE_WORDS[family.exposure]}" if family.exposure else "exposition non précisée"
        role.exposure_rule = (
            f"Estimation Orientia : {where} est rattaché par Orientia à la famille « {family.title} » ; "
            f"{exposure}, selon le classement des secteurs de l'étude régionale. {mapping.rule}"
        ).strip()
    return problems
