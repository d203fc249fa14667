"""France compétences exports of the RNCP and RS fiches: ``Certification`` records.

CSV export (``;``-separated, quoted), three files recognised by their header:

- blocs: ``Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle``;
- certifiers: ``Numero_Fiche;Siret_Certificateur;Nom_Certificateur`` (the SIRET starts with a
  tab character in the official files: it is stripped);
- succession: ``Numero_Fiche;Ancienne_Certification;Nouvelle_Certification``.

XML export (``FICHES/FICHE``, when given): the title (``INTITULE``), level
(``NOMENCLATURE_EUROPE/NIVEAU``), status (``ACTIF``), end of registration
(``DATE_FIN_ENREGISTREMENT``), certifiers, ROME codes, and for each bloc
(``BLOCS_COMPETENCES/BLOC_COMPETENCES``) its ``CODE``, ``LIBELLE``, ``LISTE_COMPETENCES`` and
``MODALITES_EVALUATION`` (HTML fragments turned into text). Parsed with ``defusedxml``: no entity
expansion, no external resources.

Orientia keeps the fiches about AI and data (:data:`SCOPE`): the rule lives here, so the bundled
subset and an admin's full export give the same certifications.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError

from assistant.models import Certification, certification_url
from assistant.text import fold

from ..problems import Problem, problems_from_validation
from ._files import CsvRows, read_csv, whitespace

__all__ = [
    "KEEP",
    "RNCP_HEADERS",
    "SCOPE",
    "RncpExport",
    "in_scope",
    "load_rncp_csv",
    "parse_rncp_xml",
    "rncp_file_kind",
    "rncp_source",
]

#: file kind -> its exact header
RNCP_HEADERS: dict[str, tuple[str, ...]] = {
    "blocs": ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"),
    "certificateurs": ("Numero_Fiche", "Siret_Certificateur", "Nom_Certificateur"),
    "succession": ("Numero_Fiche", "Ancienne_Certification", "Nouvelle_Certification"),
}

#: What makes a fiche "about AI and data": a bloc title (or, from the XML export, the fiche's
#: title) matching one of these, on accent-folded lower-case text. Generic « données » alone is
#: left out: it matches hundreds of unrelated blocs (« données patients », « données comptables »).
SCOPE = re.compile(
    r"intelligences? artificielles?|\bia\b|apprentissage (automatique|profond|automatise)"
    r"|machine learning|deep learning|data scien\w*|sciences? des donnees|donnees massives"
    r"|big data|analyse (de|des) donnees|data analy\w*|\bdata\b"
)
#: Fiches Orientia already cites (shared/domain/FACTS.md), kept whatever their blocs say.
KEEP = frozenset({"RNCP37827", "RNCP37873", "RNCP37137", "RNCP36129"})

_FICHE = re.compile(r"^(RNCP|RS)\d+$")
_SIRET = re.compile(r"^\d{14}$")


def rncp_source(export_date: str) -> str:
    """How a fiche of the export is cited."""
    return f"France compétences — export des fiches RNCP/RS du {export_date}, Licence Ouverte 2.0"


def rncp_file_kind(header: list[str]) -> str | None:
    """``blocs`` | ``certificateurs`` | ``succession`` for a France compétences CSV header."""
    cleaned = tuple(h.strip().strip('"') for h in header)
    for kind, expected in RNCP_HEADERS.items():
        if cleaned == expected:
            return kind
    return None


def in_scope(code: str, texts: list[str]) -> bool:
    """True when the fiche is kept: cited already, or a title matches :data:`SCOPE`."""
    return code in KEEP or any(SCOPE.search(fold(t)) for t in texts)


@dataclass
class _Bloc:
    code: str
    title: str
    line: int | None
    file: str
    skills: list[str] = field(default_factory=list)
    evaluation: str | None = None


@dataclass
class _Fiche:
    code: str
    file: str
    line: int | None = None
    title: str | None = None
    level: int | None = None
    status: str | None = None
    validity_end: date | None = None
    certifiers: list[str] = field(default_factory=list)
    blocs: dict[str, _Bloc] = field(default_factory=dict)
    replaces: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)
    rome_codes: list[str] = field(default_factory=list)


@dataclass
class RncpExport:
    """What the files of one export say, fiche by fiche, before the scope rule applies."""

    export_date: str = ""
    fiches: dict[str, _Fiche] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    has_blocs: bool = False

    def fiche(self, code: str, file: str, line: int | None) -> _Fiche:
        if code not in self.fiches:
            self.fiches[code] = _Fiche(code=code, file=file, line=line)
        return self.fiches[code]

    def certifications(self) -> tuple[list[Certification], list[Problem]]:
        """The fiches in scope as validated records."""
        problems = list(self.problems)
        out: list[Certification] = []
        source = rncp_source(self.export_date) if self.export_date else "France compétences — export des fiches RNCP/RS"
        for code, fiche in sorted(self.fiches.items()):
            texts = [b.title for b in fiche.blocs.values()] + ([fiche.title] if fiche.title else [])
            if not in_scope(code, texts):
                continue
            blocs = []
            for bloc in sorted(fiche.blocs.values(), key=lambda b: b.code):
                if not bloc.title:
                    problems.append(Problem(file=bloc.file, line=bloc.line, record=bloc.code, reason="intitulé de bloc vide"))
                    continue
                blocs.append({"code": bloc.code, "title": bloc.title, "skills": bloc.skills, "evaluation": bloc.evaluation})
            data = {
                "code": code, "title": fiche.title, "level": fiche.level, "status": fiche.status,
                "validity_end": fiche.validity_end,
                "certifier": " ; ".join(dict.fromkeys(fiche.certifiers)) or None,
                "blocs": blocs, "url": certification_url(code),
                "replaces": fiche.replaces, "replaced_by": fiche.replaced_by,
                "rome_codes": fiche.rome_codes, "sources": [f"{source}, fiche {code}"],
            }
            try:
                out.append(Certification.model_validate(data))
            except ValidationError as exc:
                problems.extend(problems_from_validation(exc, file=fiche.file, record=code, line=fiche.line))
        return out, problems


def _check_fiche(export: RncpExport, rows: CsvRows, line: int, code: str) -> bool:
    if _FICHE.match(code):
        return True
    export.problems.append(Problem(file=rows.file, line=line, record=code, reason="numéro de fiche invalide (RNCPnnnnn ou RSnnnn attendu)"))
    return False


def load_rncp_csv(export: RncpExport, kind: str, text: str, *, file: str) -> None:
    """Add one CSV file of the export (``kind`` from :func:`rncp_file_kind`) to ``export``."""
    rows, problems = read_csv(text, file=file, required=RNCP_HEADERS[kind], delimiter=";")
    export.problems.extend(problems)
    if rows is None:
        return
    found = re.search(r"(\d{4})_(\d{2})_(\d{2})", file)
    if found and not export.export_date:
        export.export_date = f"{found.group(3)}/{found.group(2)}/{found.group(1)}"
    for line, row in rows.rows:
        code = row["Numero_Fiche"].strip()
        if not _check_fiche(export, rows, line, code):
            continue
        fiche = export.fiche(code, rows.file, line)
        if kind == "blocs":
            export.has_blocs = True
            bloc_code = row["Bloc_Competences_Code"].strip()
            if not re.fullmatch(rf"{code}BC\d{{1,3}}", bloc_code):
                export.problems.append(Problem(file=rows.file, line=line, record=bloc_code, reason=f"code de bloc invalide (attendu : {code}BCnn)"))
                continue
            fiche.blocs[bloc_code] = _Bloc(bloc_code, whitespace(row["Bloc_Competences_Libelle"]), line, rows.file)
        elif kind == "certificateurs":
            siret = row["Siret_Certificateur"].strip()  # the official files put a tab before it
            name = whitespace(row["Nom_Certificateur"])
            if siret and not _SIRET.match(siret):
                export.problems.append(Problem(file=rows.file, line=line, record=code, reason=f"SIRET invalide : {siret!r} (14 chiffres attendus)"))
                continue
            if not name:
                export.problems.append(Problem(file=rows.file, line=line, record=code, reason="nom du certificateur vide"))
                continue
            fiche.certifiers.append(name)
        else:
            for column, target in (("Ancienne_Certification", fiche.replaces), ("Nouvelle_Certification", fiche.replaced_by)):
                other = row[column].strip()
                if not other:
                    continue
                if not _FICHE.match(other):
                    export.problems.append(Problem(file=rows.file, line=line, record=code, reason=f"{column} : numéro de fiche invalide {other!r}"))
                elif other not in target:
                    target.append(other)


# -- XML export ------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_ITEM_BREAK = re.compile(r"(?i)<\s*(li|br|p)\b[^>]*>")


def _html_text(fragment: str | None) -> str:
    """An HTML fragment of the export as plain text (list items and breaks as « ; »)."""
    if not fragment:
        return ""
    text = _ITEM_BREAK.sub(" ; ", fragment)
    text = html.unescape(_TAG.sub(" ", text))
    parts = [whitespace(p) for p in re.split(r"\s*;\s*", text)]
    return " ; ".join(p for p in parts if p)


def _html_items(fragment: str | None) -> list[str]:
    text = _html_text(fragment)
    return [p for p in (whitespace(x) for x in text.split(" ; ")) if p]


def _child_text(element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "") if found is not None else ""


def parse_rncp_xml(export: RncpExport, data: bytes, *, file: str) -> None:
    """Add the fiches of an XML export file to ``export``."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        line = getattr(exc, "position", (None,))[0]
        export.problems.append(Problem(file=file, line=line, reason=f"XML illisible ou refusé ({exc.__class__.__name__})"))
        return
    fiches = [root] if root.tag == "FICHE" else root.iter("FICHE")
    for n, element in enumerate(fiches, start=1):
        code = whitespace(_child_text(element, "NUMERO_FICHE"))
        if not _FICHE.match(code):
            export.problems.append(Problem(file=file, record=f"FICHE n° {n}", reason=f"NUMERO_FICHE invalide : {code!r}"))
            continue
        fiche = export.fiche(code, file, None)
        fiche.title = whitespace(_child_text(element, "INTITULE")) or fiche.title
        nomenclature = element.find("NOMENCLATURE_EUROPE")
        level = re.search(r"(\d)", _child_text(nomenclature, "NIVEAU") if nomenclature is not None else "")
        if level:
            fiche.level = int(level.group(1))
        actif = fold(_child_text(element, "ACTIF")).strip()
        if actif in ("oui", "non"):
            fiche.status = "active" if actif == "oui" else "inactive"
        end = _child_text(element, "DATE_FIN_ENREGISTREMENT").strip()
        if end:
            try:
                fiche.validity_end = datetime.strptime(end, "%d/%m/%Y").date()
            except ValueError:
                export.problems.append(Problem(file=file, record=code, reason=f"DATE_FIN_ENREGISTREMENT : date JJ/MM/AAAA attendue, lu {end!r}"))
        for certifier in element.iter("CERTIFICATEUR"):
            name = whitespace(_child_text(certifier, "NOM_CERTIFICATEUR"))
            if name and name not in fiche.certifiers:
                fiche.certifiers.append(name)
        romes = element.find("CODES_ROME")
        if romes is not None:
            for rome in romes.iter("CODE"):
                value = whitespace(rome.text)
                if re.fullmatch(r"[A-N]\d{4}", value) and value not in fiche.rome_codes:
                    fiche.rome_codes.append(value)
        for bloc in element.iter("BLOC_COMPETENCES"):
            bloc_code = whitespace(_child_text(bloc, "CODE"))
            if not re.fullmatch(rf"{code}BC\d{{1,3}}", bloc_code):
                export.problems.append(Problem(file=file, record=bloc_code or code, reason=f"code de bloc invalide (attendu : {code}BCnn)"))
                continue
            title = whitespace(_child_text(bloc, "LIBELLE"))
            entry = fiche.blocs.setdefault(bloc_code, _Bloc(bloc_code, title, None, file))
            entry.title = entry.title or title
            entry.skills = _html_items(_child_text(bloc, "LISTE_COMPETENCES"))
            entry.evaluation = _html_text(_child_text(bloc, "MODALITES_EVALUATION")) or None
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", file)
    if found and not export.export_date:
        export.export_date = f"{found.group(3)}/{found.group(2)}/{found.group(1)}"
