"""Parse and validate input files into records.

Each loader returns the records of one file and the problems found in it. Front matter is read
with ``python-frontmatter``, YAML with PyYAML's safe loader, CSV with the standard ``csv`` module.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assistant.models import Certification, Document, Place, Role, StudySection, Training

from . import offers
from .problems import Problem, problems_from_validation

__all__ = ["LoadedRecord", "load_file", "SUPPORTED_SUFFIXES", "TRAINING_COLUMNS"]

#: a folder or ``.zip`` holding an official release (ROME, France compétences) is read as a whole
SUPPORTED_SUFFIXES = (".md", ".markdown", ".yaml", ".yml", ".csv", ".txt", ".xml", ".zip")

#: CSV column (LHEO / Mon Compte Formation naming, in French) -> Training field
TRAINING_COLUMNS: dict[str, str] = {
    "id": "id",
    "intitule": "title",
    "objectifs": "objectives",
    "contenu": "content",
    "organisme": "provider",
    "ville": "city",
    "departement": "department",
    "modalite": "format",
    "duree_heures": "duration_hours",
    "prix_eur": "price_eur",
    "financements": "funding",
    "niveau_entree": "entry_level",
    "niveau_sortie": "exit_level",
    "code_certification": "certification_code",
    "blocs": "blocs",
    "codes_rome": "rome_codes",
    "public": "public",
    "competences": "skills",
    "prochaines_sessions": "sessions",
    "accessible_handicap": "disability_access",
    "url": "url",
    "sources": "sources",
    "illustratif": "illustratif",
}
_LIST_COLUMNS = {"financements", "blocs", "codes_rome", "public", "competences", "prochaines_sessions", "sources"}
_BOOL_COLUMNS = {"accessible_handicap", "illustratif"}
_STUDY_TYPES = {"cadrage", "chiffres", "secteurs", "famille", "suite", "contexte"}


@dataclass
class LoadedRecord:
    """A validated record and where it came from."""

    kind: str
    record: BaseModel
    source_file: str

    @property
    def ident(self) -> str:
        if isinstance(self.record, Certification):
            return self.record.code
        if isinstance(self.record, Place):
            return self.record.insee
        if self.kind == "supplement":
            return str(self.record.kind)  # type: ignore[attr-defined]
        return self.record.id  # type: ignore[attr-defined]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}"


def _slug(text: str) -> str:
    from assistant.text import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def load_file(path: Path, *, display: str | None = None) -> tuple[list[LoadedRecord], list[Problem]]:
    """Load one file. ``display`` is the name used in messages (defaults to the path)."""
    from . import referentials

    name = display or str(path)
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".zip":
        if not referentials.is_referential_bundle(path):
            return [], [Problem(file=name, reason="dossier ou archive non reconnu (publication ROME ou export France compétences attendu)")]
        loaded, problems = referentials.load_bundle(path, display=name)
        return [LoadedRecord(kind, record, name) for kind, record in loaded], problems
    from .documents import DOCUMENT_SUFFIXES, load_document

    if suffix in DOCUMENT_SUFFIXES:  # PDF, DOCX, HTML, XLSX: ingest/documents.py
        return load_document(path, display=name)
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [Problem(file=name, reason=f"format de fichier non pris en charge ({suffix or 'sans extension'})")]
    if suffix == ".xml":
        return _load_xml(path, name)  # XML declares its own encoding
    if suffix == ".csv" and offers.is_mcf_file(path):
        return offers.load_mcf_file(path, name)  # streamed: the national catalogue is large
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(file=name, reason="le fichier n'est pas encodé en UTF-8")]
    except OSError as exc:
        return [], [Problem(file=name, reason=f"lecture impossible ({exc.strerror})")]
    if suffix in (".md", ".markdown", ".txt"):
        return _load_markdown(raw, name, path)
    if suffix in (".yaml", ".yml"):
        return _load_yaml(raw, name)
    return _load_csv(raw, name)


def _load_markdown(raw: str, name: str, path: Path):
    import frontmatter

    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as exc:
        return [], [Problem(file=name, line=_yaml_line(exc), reason="en-tête YAML illisible")]
    meta: dict[str, Any] = dict(post.metadata)
    body = post.content.strip()
    if not body:
        return [], [Problem(file=name, reason="le document est vide")]
    if not meta:
        # A plain document (e.g. uploaded by an admin): title from its first heading.
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        meta = {
            "id": _slug(path.stem),
            "title": heading.group(1).strip() if heading else path.stem,
            "type": "guide",
            "sources": [path.name],
        }
    meta["body"] = body
    is_study = meta.get("type") in _STUDY_TYPES
    model = StudySection if is_study else Document
    ident = str(meta.get("id", ""))
    try:
        record = model.model_validate(meta)
    except ValidationError as exc:
        return [], problems_from_validation(exc, file=name, record=ident)
    return [LoadedRecord("study" if is_study else "document", record, name)], []


def _yaml_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _load_yaml(raw: str, name: str):
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        return [], [Problem(file=name, line=_yaml_line(exc), reason=f"YAML invalide ({getattr(exc, 'problem', 'erreur de syntaxe')})")]
    from . import referentials

    if referentials.is_supplement(data):
        supplement, problems = referentials.load_supplement(data, file=name)
        return ([LoadedRecord("supplement", supplement, name)] if supplement else []), problems
    items = data if isinstance(data, list) else [data]
    loaded, problems = [], []
    model: type[Certification | Role]
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(file=name, record=f"n° {position}", reason="un objet (clé: valeur) est attendu"))
            continue
        if "code" in item and "blocs" in item or "code" in item and "certifier" in item:
            model, kind, ident = Certification, "certification", str(item.get("code", ""))
        elif "rome_code" in item or "aliases" in item or "label" in item:
            model, kind, ident = Role, "role", str(item.get("id", ""))
        elif "code" in item:
            model, kind, ident = Certification, "certification", str(item.get("code", ""))
        else:
            problems.append(Problem(
                file=name, record=f"n° {position}",
                reason="type d'enregistrement non reconnu (certification avec « code » ou métier avec « rome_code »)",
            ))
            continue
        try:
            loaded.append(LoadedRecord(kind, model.model_validate(item), name))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, file=name, record=ident or f"n° {position}"))
    return loaded, problems


def _cell(column: str, value: str):
    value = (value or "").strip()
    if column in _LIST_COLUMNS:
        return [v.strip() for v in value.split(";") if v.strip()]
    if column in _BOOL_COLUMNS:
        lowered = value.lower()
        if lowered in ("oui", "true", "1", "vrai", "yes"):
            return True
        if lowered in ("non", "false", "0", "faux", "no", ""):
            return False
        return value  # let validation reject it with the field name
    if column in ("duree_heures", "prix_eur"):
        return value.replace(",", ".").replace("\u202f", "").replace(" ", "") or None
    return value or None


def _load_csv(raw: str, name: str):
    from . import referentials

    official = referentials.load_referential_csv(raw, file=name)
    if official is not None:
        records, found = official
        return [LoadedRecord(kind, record, name) for kind, record in records], found
    try:
        dialect = csv.Sniffer().sniff(raw.split("\n", 1)[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("id", "intitule", "organisme", "modalite", "duree_heures", "prix_eur") if c not in header]
    if missing:
        return [], [Problem(file=name, line=1, reason=f"colonnes manquantes : {', '.join(missing)}")]
    unknown = [c for c in header if c not in TRAINING_COLUMNS]
    if unknown:
        return [], [Problem(file=name, line=1, reason=f"colonnes inconnues : {', '.join(unknown)}")]
    loaded: list[LoadedRecord] = []
    problems: list[Problem] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(Problem(file=name, line=line, record=str(row.get("id") or ""), reason="trop de colonnes sur cette ligne"))
            continue
        data = {TRAINING_COLUMNS[k.strip()]: _cell(k.strip(), v) for k, v in row.items()}
        data = {k: v for k, v in data.items() if v is not None}
        ident = str(data.get("id", ""))
        try:
            loaded.append(LoadedRecord("training", Training.model_validate(data), name))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, file=name, record=ident, line=line))
    return loaded, problems


def _load_xml(path: Path, name: str):
    """Dispatch an XML document on its root element (read safely: see ``ingest.xmlsafe``).

    LHEO (Carif-Oref training offers) goes to ``ingest.offers``; anything else is tried as a
    France compétences export (``ingest.referentials``), which names what it expected.
    """
    from . import referentials
    from .xmlsafe import XMLRefused, root_name

    try:
        root = root_name(path)
    except XMLRefused as exc:
        return [], [exc.problem(name)]
    if root == offers.LHEO_ROOT:
        return offers.load_lheo(path, name)
    if root != "FICHES":  # the root of France compétences XML exports
        return [], [Problem(file=name, line=1, reason=f"document XML non reconnu : élément racine « {root} » (attendu : « lheo » ou « FICHES »)")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [Problem(file=name, reason=f"lecture impossible ({exc.strerror})")]
    loaded, problems = referentials.load_referential_xml(data, file=name)
    return [LoadedRecord(kind, record, name) for kind, record in loaded], problems
