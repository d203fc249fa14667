"""Importers for the official referentials, in their published formats.

- ROME 4.0 « RefRomeCsv » (France Travail): the release folder or its zip -> ``Role`` per sheet;
- France compétences RNCP/RS export: its CSV files (blocs, certificateurs, ancienne/nouvelle
  certification, recognised by their header) as a folder, a zip or single files, and its XML
  export -> ``Certification`` for the fiches about AI and data (:data:`rncp.SCOPE`);
- INSEE COG communes CSV -> ``Place`` per commune of the region;
- Orientia's supplements (``knowledge/orientia/*.yaml``), applied by :func:`apply_supplements`.

Each importer validates what it reads and reports problems by file and line.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pydantic import BaseModel

from ..problems import Problem
from ._files import Bundle, decode
from .cog import is_cog_header, load_cog
from .rncp import RncpExport, load_rncp_csv, parse_rncp_xml, rncp_file_kind
from .rome import is_rome_release, load_rome
from .supplements import SUPPLEMENT_KINDS, apply_supplements, load_supplement

__all__ = [
    "SUPPLEMENT_KINDS",
    "apply_supplements",
    "is_referential_bundle",
    "is_supplement",
    "load_bundle",
    "load_referential_csv",
    "load_referential_xml",
    "load_supplement",
]

Loaded = list[tuple[str, BaseModel]]


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0].strip("\r")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [h.strip().strip('"') for h in first.split(delimiter)]


def _rncp_files(bundle: Bundle) -> list[tuple[str, str]]:
    """(file, kind) of the France compétences files in a folder or zip."""
    out = []
    for name in bundle.names():
        base = name.rsplit("/", 1)[-1].lower()
        if base.endswith(".csv"):
            kind = rncp_file_kind(_header(decode(bundle.read(name)[:4096])))
            if kind:
                out.append((name, kind))
        elif base.endswith(".xml") and b"<FICHE" in bundle.read(name)[:65536]:
            out.append((name, "xml"))
    return out


def is_referential_bundle(path: Path) -> bool:
    """True for a folder or zip holding an official release read as a whole (ROME, RNCP)."""
    if not (path.is_dir() or (path.suffix.lower() == ".zip" and zipfile.is_zipfile(path))):
        return False
    bundle = Bundle(path, path.name)
    return is_rome_release(bundle) or bool(_rncp_files(bundle))


def load_bundle(path: Path, *, display: str) -> tuple[Loaded, list[Problem]]:
    """Every record of a release folder or zip."""
    bundle = Bundle(path, display)
    try:
        if is_rome_release(bundle):
            roles, problems = load_rome(bundle)
            return [("role", r) for r in roles], problems
        files = _rncp_files(bundle)
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [Problem(file=display, reason=f"archive illisible ({exc})")]
    if not files:
        return [], [Problem(file=display, reason="aucun fichier ROME ni export France compétences reconnu")]
    export = RncpExport()
    # CSV first, then the XML, which completes the blocs with their skills and assessment.
    for name, kind in sorted(files, key=lambda f: f[1] == "xml"):
        if kind == "xml":
            parse_rncp_xml(export, bundle.read(name), file=bundle.label(name))
        else:
            load_rncp_csv(export, kind, decode(bundle.read(name)), file=bundle.label(name))
    if not export.has_blocs and not any(kind == "xml" for _, kind in files):
        export.problems.append(Problem(
            file=display,
            reason="le fichier des blocs de compétences (Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle) manque",
        ))
    certs, problems = export.certifications()
    return [("certification", c) for c in certs], problems


def load_referential_csv(text: str, *, file: str) -> tuple[Loaded, list[Problem]] | None:
    """Records of a single official CSV file, or None when its header is not an official one."""
    header = _header(text)
    if is_cog_header(header):
        places, problems = load_cog(text, file=file)
        return [("place", p) for p in places], problems
    kind = rncp_file_kind(header)
    if kind is None:
        return None
    if kind != "blocs":
        return [], [Problem(
            file=file, line=1,
            reason="ce fichier complète l'export des blocs de compétences : importez-le avec lui (même dossier ou même zip)",
        )]
    export = RncpExport()
    load_rncp_csv(export, kind, text, file=file)
    certs, problems = export.certifications()
    return [("certification", c) for c in certs], problems


def load_referential_xml(data: bytes, *, file: str) -> tuple[Loaded, list[Problem]]:
    """Certifications of a France compétences XML export file given alone."""
    export = RncpExport()
    parse_rncp_xml(export, data, file=file)
    certs, problems = export.certifications()
    return [("certification", c) for c in certs], problems


def is_supplement(data: object) -> bool:
    return isinstance(data, dict) and data.get("kind") in SUPPLEMENT_KINDS

