"""Real files made by the tests: PDFs (fpdf2), Word (python-docx), Excel (openpyxl), HTML, CSV.

Each document talks about something Orientia's bundled knowledge does not cover, so a test can
tell whether an answer comes from the upload.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

__all__ = [
    "CATALOGUE_HEADER",
    "bad_catalogue_csv",
    "catalogue_csv",
    "catalogue_xlsx",
    "docx_file",
    "html_file",
    "pdf_file",
    "pdf_without_text",
    "truncated_pdf",
    "zip_bomb_docx",
]

CATALOGUE_HEADER = [
    "id", "intitule", "objectifs", "contenu", "organisme", "ville", "departement", "modalite",
    "duree_heures", "prix_eur", "financements", "niveau_entree", "niveau_sortie", "code_certification",
    "blocs", "codes_rome", "competences", "prochaines_sessions", "accessible_handicap", "url",
    "sources", "illustratif",
]


def pdf_file(path: Path, pages: list[str], *, title: str = "") -> Path:
    """A PDF with a text layer, one string per page."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def pdf_without_text(path: Path) -> Path:
    """A PDF with drawings only (what a scan without OCR gives)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 80, 60, style="F")
    pdf.output(str(path))
    return path


def truncated_pdf(path: Path) -> Path:
    """The first half of a valid PDF (an interrupted download)."""
    full = pdf_file(path.with_name("complet-" + path.name), ["Un document complet sur les ruchers."])
    data = full.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    full.unlink()
    return path


def docx_file(path: Path, title: str, sections: dict[str, str]) -> Path:
    """A Word document: a title (Heading 1) and one Heading 2 section per entry."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, 1)
    for heading, text in sections.items():
        document.add_heading(heading, 2)
        document.add_paragraph(text)
    document.save(str(path))
    return path


def html_file(path: Path, title: str, paragraphs: list[str]) -> Path:
    """A web page with navigation and footer around its main text."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    path.write_text(
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<nav><a href='/'>Accueil</a> <a href='/contact'>Contact</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<footer>Mentions légales — plan du site</footer></body></html>",
        encoding="utf-8",
    )
    return path


def training_row(ident: str, title: str, objectives: str, **overrides) -> dict[str, str]:
    row = {
        "id": ident, "intitule": title, "objectifs": objectives, "contenu": "", "organisme": "Organisme de test",
        "ville": "Amiens", "departement": "80", "modalite": "présentiel", "duree_heures": "14", "prix_eur": "300",
        "financements": "plan;opco", "niveau_entree": "", "niveau_sortie": "", "code_certification": "",
        "blocs": "", "codes_rome": "", "competences": "", "prochaines_sessions": "",
        "accessible_handicap": "oui", "url": "", "sources": "Catalogue de test", "illustratif": "non",
    }
    row.update(overrides)
    return row


def catalogue_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CATALOGUE_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def catalogue_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CATALOGUE_HEADER)
    for row in rows:
        sheet.append([_excel(row.get(c, "")) for c in CATALOGUE_HEADER])
    workbook.save(str(path))
    return path


def _excel(value: str):
    try:
        return float(value) if value.replace(".", "", 1).isdigit() else value
    except AttributeError:
        return value


def bad_catalogue_csv(path: Path) -> Path:
    """Three bad rows (lines 3, 4 and 5) between good ones."""
    return catalogue_csv(path, [
        training_row("BAD1", "Formation correcte", "Apprendre."),
        training_row("BAD2", "Département faux", "Apprendre.", departement="75"),
        training_row("BAD3", "Durée négative", "Apprendre.", duree_heures="-3"),
        training_row("BAD4", "Mode inconnu", "Apprendre.", modalite="hybride"),
        training_row("BAD5", "Formation correcte aussi", "Apprendre."),
    ])


def zip_bomb_docx(path: Path, *, megabytes: int = 40) -> Path:
    """A .docx whose document part expands ~1000 times (a small zip bomb)."""
    zeros = b"0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'/>")
        with archive.open("word/document.xml", "w") as member:
            member.write(b"<w:document>")
            for _ in range(megabytes):
                member.write(zeros)
            member.write(b"</w:document>")
    return path


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
