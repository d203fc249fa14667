"""Uploaded documents: content sniffing, safety checks and parsers for PDF, DOCX, HTML and XLSX.

Every file an admin uploads goes through :func:`check_upload` before anything is written: its
type is read from its content (not trusted from its name), zip archives (DOCX and XLSX are zips)
are refused when they would expand to too much, XML with entity declarations is refused
(``defusedxml``). :func:`load_document` then turns a PDF (``pypdf``), a Word file
(``python-docx``), a web page (``trafilatura``, main text only) or an Excel catalogue
(``openpyxl``) into records; anything else goes through :func:`ingest.loaders.load_file`, so every
format it recognises can be uploaded too.

Text documents become :class:`~assistant.models.Document` records whose body is Markdown: a PDF
has one ``## Page N`` section per page and a Word file keeps its headings, so a citation says
where the passage is (« Page 12 »).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from assistant.models import Document

from .problems import Problem, problems_from_validation

__all__ = [
    "DOCUMENT_SUFFIXES",
    "KIND_LABELS",
    "MAX_UNZIPPED_BYTES",
    "MAX_ZIP_RATIO",
    "Sniffed",
    "check_upload",
    "load_document",
    "sniff",
]

#: Suffixes parsed here (the rest goes through ``load_file``).
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".xlsx")
#: A zip may expand to this much in total, whatever its own size.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: Compression ratio above which a large zip member is taken for a bomb (text compresses ~10x).
MAX_ZIP_RATIO = 100
_ZIP_MAX_MEMBERS = 10_000

KIND_LABELS = {
    "pdf": "PDF", "docx": "Word (DOCX)", "xlsx": "Excel (XLSX)", "html": "page web (HTML)",
    "xml": "XML", "zip": "archive ZIP", "markdown": "Markdown", "text": "texte",
    "yaml": "YAML", "csv": "CSV",
}
_TEXT_KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
_EXPECTED_SUFFIX = {"pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx", "html": ".html"}


@dataclass
class Sniffed:
    """What a file's content says it is."""

    kind: str
    #: the suffix the file is parsed as (its own when it agrees with the content)
    suffix: str


def sniff(head: bytes, filename: str, path: Path | None = None) -> Sniffed | Problem:
    """The file's type from its first bytes (and, for zips, the names inside)."""
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"%PDF-"):
        return _agree("pdf", suffix, filename)
    if head.startswith(b"PK\x03\x04"):
        names: set[str] = set()
        if path is not None:
            try:
                with zipfile.ZipFile(path) as archive:
                    names = set(archive.namelist())
            except (zipfile.BadZipFile, OSError):
                return Problem(file=filename, reason="archive ZIP illisible ou tronquée")
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return _agree("docx", suffix, filename)
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return _agree("xlsx", suffix, filename)
        if suffix in (".docx", ".xlsx"):
            return Problem(file=filename, reason=f"le contenu n'est pas un fichier {suffix[1:].upper()} valide (archive ZIP sans la structure attendue)")
        return Sniffed("zip", suffix or ".zip")
    if b"\0" in head[:4096]:
        return Problem(file=filename, reason="type de fichier non reconnu (contenu binaire) : formats acceptés PDF, DOCX, XLSX, HTML, Markdown, texte, YAML, CSV, XML, ZIP")
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if text.startswith("<!doctype html") or re.match(r"(<!--.*?-->\s*)*<html[\s>]", text, re.DOTALL) or (
        suffix in (".html", ".htm") and "<body" in text
    ):
        return _agree("html", suffix if suffix in (".html", ".htm") else ".html", filename)
    if text.startswith("<?xml") or (text.startswith("<") and suffix == ".xml"):
        return Sniffed("xml", suffix or ".xml")
    if suffix in (".pdf", ".docx", ".xlsx"):
        return Problem(file=filename, reason=f"le contenu ne correspond pas à l'extension {suffix} (fichier texte)")
    if suffix in _TEXT_KINDS:
        return Sniffed(_TEXT_KINDS[suffix], suffix)
    if not suffix:
        return Sniffed("text", ".txt")
    # Other suffixes: the loaders decide (and name the format they do not support).
    return Sniffed("text", suffix)


def _agree(kind: str, suffix: str, filename: str) -> Sniffed | Problem:
    expected = _EXPECTED_SUFFIX[kind]
    if suffix and suffix != expected and not (kind == "html" and suffix == ".htm"):
        return Problem(
            file=filename,
            reason=f"le contenu est un fichier {KIND_LABELS[kind]} mais son nom se termine par {suffix} : renommez-le en {expected}",
        )
    return Sniffed(kind, suffix or expected)


def check_upload(path: Path, filename: str) -> tuple[Sniffed | None, list[Problem]]:
    """Everything checked on an uploaded file before it is accepted (type, zip bombs, XML tricks).

    Args:
        path: the file as received (a temporary copy).
        filename: its name as uploaded, used in messages.

    Returns:
        What the file is, or None, and the problems found (none when it may be kept).
    """
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        return None, [Problem(file=filename, reason="le fichier est vide")]
    found = sniff(head, filename, path)
    if isinstance(found, Problem):
        return None, [found]
    problems: list[Problem] = []
    if found.kind in ("docx", "xlsx", "zip"):
        problems.extend(_check_zip(path, filename))
    elif found.kind == "xml":
        problems.extend(_check_xml(path.read_bytes(), filename))
    elif found.kind == "pdf":
        problems.extend(_check_pdf_end(path, filename))
    return found, problems


def _check_zip(path: Path, filename: str) -> list[Problem]:
    """Refuse archives that would expand to too much, before anything is extracted."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > _ZIP_MAX_MEMBERS:
                return [Problem(file=filename, reason=f"archive refusée : plus de {_ZIP_MAX_MEMBERS} fichiers à l'intérieur")]
            total = sum(m.file_size for m in members)
            if total > MAX_UNZIPPED_BYTES:
                return [Problem(
                    file=filename,
                    reason=f"archive refusée : elle se décompresserait en {_n(total / 2**20)} Mo (maximum {_n(MAX_UNZIPPED_BYTES / 2**20)} Mo), ce qui ressemble à une « bombe de décompression »",
                )]
            for member in members:
                ratio = member.file_size / max(1, member.compress_size)
                if member.file_size > 1_000_000 and ratio > MAX_ZIP_RATIO:
                    return [Problem(
                        file=filename,
                        reason=f"archive refusée : « {member.filename} » est compressé {_n(ratio)} fois (maximum {MAX_ZIP_RATIO}), ce qui ressemble à une « bombe de décompression »",
                    )]
            problems = []
            for member in members:
                if member.filename.endswith((".xml", ".rels")) and member.file_size < 50_000_000:
                    problems.extend(_check_xml(archive.read(member), filename, part=member.filename))
                    if problems:
                        break
            return problems
    except zipfile.BadZipFile:
        return [Problem(file=filename, reason="archive ZIP illisible ou tronquée")]


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _check_xml(data: bytes, filename: str, *, part: str = "") -> list[Problem]:
    """Refuse XML with a DTD or entity declarations (billion laughs, external entities)."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    where = f" (partie {part})" if part else ""
    try:
        SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        return [Problem(file=filename, reason=f"XML refusé{where} : il déclare une DTD ou des entités, ce qui n'est pas accepté par sécurité")]
    except SafeET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        return [Problem(file=filename, line=line, reason=f"XML mal formé{where}")]
    return []


def _check_pdf_end(path: Path, filename: str) -> list[Problem]:
    """A complete PDF ends with ``%%EOF`` (a truncated upload does not)."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        return [Problem(file=filename, reason="le PDF est incomplet (fichier tronqué) : envoyez le fichier entier")]
    return []


# -- Parsers ----------------------------------------------------------------------------------


def load_document(path: Path, *, display: str | None = None):
    """Load a PDF, DOCX, HTML or XLSX file into records (same contract as ``load_file``)."""
    name = display or path.name
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            return _load_pdf(path, name)
        if suffix == ".docx":
            return _load_docx(path, name)
        if suffix in (".html", ".htm"):
            return _load_html(path, name)
        if suffix == ".xlsx":
            return _load_xlsx(path, name)
    except OSError as exc:
        return [], [Problem(file=name, reason=f"lecture impossible ({exc.strerror})")]
    return [], [Problem(file=name, reason=f"format de fichier non pris en charge ({suffix})")]


def _slug(text: str) -> str:
    from assistant.text import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "document"


def _document(name: str, title: str, body: str, doc_type: str):
    from .loaders import LoadedRecord

    stem = Path(name).stem
    ident = _slug(stem)[:80].strip("-") or "document"
    data = {
        "id": ident,
        "title": (title or stem).strip()[:200],
        "type": doc_type,
        "sources": [Path(name).name],
        "body": body,
    }
    try:
        return [LoadedRecord("document", Document.model_validate(data), name)], []
    except ValidationError as exc:
        return [], problems_from_validation(exc, file=name, record=ident)


def _clean(text: str) -> str:
    text = text.replace("\r", "").replace("\x00", "")
    text = re.sub(r"[ \t]+", " ", text)
    # Lines starting with '#' would be taken for Markdown headings.
    text = re.sub(r"(?m)^#", "\\#", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _load_pdf(path: Path, name: str):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            return [], [Problem(file=name, reason="le PDF est protégé par un mot de passe : envoyez une version sans protection")]
        pages = [_clean(page.extract_text() or "") for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return [], [Problem(file=name, reason=f"PDF illisible ou endommagé ({type(exc).__name__})")]
    if not pages:
        return [], [Problem(file=name, reason="le PDF ne contient aucune page")]
    if not any(pages):
        return [], [Problem(
            file=name,
            reason="le PDF ne contient aucun texte extractible (document scanné ?) : envoyez un PDF avec une couche texte (OCR) ou le document source",
        )]
    first = next(p for p in pages if p).splitlines()[0]
    title = meta_title.strip() or first[:150]
    body = "\n\n".join(f"## Page {n}\n\n{text}" for n, text in enumerate(pages, start=1) if text)
    return _document(name, title, body, "pdf")


def _load_docx(path: Path, name: str):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        return [], [Problem(file=name, reason=f"fichier Word illisible ou endommagé ({type(exc).__name__})")]
    lines: list[str] = []
    first_heading = ""
    for paragraph in document.paragraphs:
        text = _clean(paragraph.text)
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = re.match(r"(?:Heading|Titre)\s*(\d)", style)
        if style == "Title" or (level and level.group(1) == "1" and not first_heading):
            first_heading = first_heading or text
        if level:
            # Heading 1 -> "##", Heading 2 -> "###": sections a citation can name.
            lines.append("#" * min(3, int(level.group(1)) + 1) + " " + text.replace("\\#", "#"))
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [_clean(c.text) for c in row.cells]
            if any(cells):
                lines.append(" | ".join(cells))
    body = "\n\n".join(lines)
    if not body.strip():
        return [], [Problem(file=name, reason="le document Word ne contient aucun texte")]
    title = (document.core_properties.title or "").strip() or first_heading
    return _document(name, title, body, "docx")


def _load_html(path: Path, name: str):
    import trafilatura

    raw = path.read_bytes()
    html = raw.decode("utf-8", errors="replace")
    text = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False,
        include_links=False, include_images=False, favor_recall=True,
    )
    if not text or not text.strip():
        return [], [Problem(file=name, reason="aucun texte principal trouvé dans la page HTML")]
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else "") or ""
    # trafilatura writes headings as Markdown; keep them at section level (## / ###).
    body = re.sub(r"(?m)^#\s", "## ", text.strip())
    return _document(name, title, body, "html")


def _load_xlsx(path: Path, name: str):
    """An Excel version of the training catalogue: same columns and checks as the CSV one."""
    from openpyxl import load_workbook

    from .loaders import _load_csv

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        return [], [Problem(file=name, reason=f"classeur Excel illisible ou endommagé ({type(exc).__name__})")]
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_xlsx_cell(v) for v in row])
    finally:
        workbook.close()
    raw = out.getvalue()
    if not raw.strip():
        return [], [Problem(file=name, reason="le classeur Excel est vide")]
    # One spreadsheet row is one CSV line (cells with line breaks aside): the line numbers the
    # CSV loader reports are the row numbers shown by Excel.
    return _load_csv(raw.replace("\r", " "), name)


def _xlsx_cell(value) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value).replace("\n", " ")
