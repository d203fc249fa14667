"""Uploaded documents: type sniffing, safety checks, parsers, and editions in a library build."""

from __future__ import annotations

import pytest

from ingest.documents import check_upload, load_document
from ingest.loaders import load_file

from ..conftest import make_settings
from ..files import (
    bad_catalogue_csv,
    catalogue_csv,
    catalogue_xlsx,
    docx_file,
    html_file,
    pdf_file,
    pdf_without_text,
    training_row,
    truncated_pdf,
    zip_bomb_docx,
    zip_bytes,
)


def _reasons(problems) -> str:
    return " | ".join(str(p) for p in problems)


def test_pdf_pages_become_sections(tmp_path):
    path = pdf_file(tmp_path / "ruchers.pdf", ["Les ruchers connectes pesent les ruches.", "Le frelon asiatique menace les abeilles."], title="Guide des ruchers")
    sniffed, problems = check_upload(path, "ruchers.pdf")
    assert sniffed.kind == "pdf" and problems == []
    records, problems = load_file(path, display="ruchers.pdf")
    assert problems == []
    [record] = records
    assert record.kind == "document" and record.record.title == "Guide des ruchers"
    assert "## Page 2" in record.record.body and "frelon asiatique" in record.record.body
    assert record.record.sources == ["ruchers.pdf"]


def test_pdf_without_text_and_truncated_pdf_are_refused(tmp_path):
    empty = pdf_without_text(tmp_path / "scan.pdf")
    assert check_upload(empty, "scan.pdf")[1] == []
    records, problems = load_document(empty, display="scan.pdf")
    assert records == [] and "aucun texte extractible" in _reasons(problems)

    cut = truncated_pdf(tmp_path / "coupe.pdf")
    _, problems = check_upload(cut, "coupe.pdf")
    assert "tronqué" in _reasons(problems)


def test_docx_keeps_headings(tmp_path):
    path = docx_file(tmp_path / "compost.docx", "Guide du compost de quartier", {
        "Ce qui est accepté": "Les épluchures et le marc de café vont au composteur collectif.",
        "Horaires": "Le composteur ouvre le samedi matin.",
    })
    sniffed, problems = check_upload(path, "compost.docx")
    assert sniffed.kind == "docx" and problems == []
    [record], problems = load_file(path, display="compost.docx")
    assert problems == []
    assert record.record.title == "Guide du compost de quartier"
    assert "### Horaires" in record.record.body


def test_html_main_text_only(tmp_path):
    path = html_file(tmp_path / "velo.html", "Atelier vélo solidaire", [
        "L'atelier vélo solidaire répare les vélos le mercredi soir avec des bénévoles.",
        "Apportez votre chambre à air : les outils sont prêtés sur place gratuitement.",
    ])
    sniffed, _ = check_upload(path, "velo.html")
    assert sniffed.kind == "html"
    [record], problems = load_file(path, display="velo.html")
    assert problems == []
    assert "mercredi soir" in record.record.body
    assert "Mentions légales" not in record.record.body and "Contact" not in record.record.body


def test_xlsx_catalogue_is_read_like_the_csv(tmp_path):
    rows = [training_row("XL001", "Initiation au tableur avec l'IA", "Automatiser des tableaux."), training_row("XL002", "Bureautique et IA", "Rédiger plus vite.", modalite="distanciel", ville="", departement="")]
    path = catalogue_xlsx(tmp_path / "catalogue.xlsx", rows)
    sniffed, problems = check_upload(path, "catalogue.xlsx")
    assert sniffed.kind == "xlsx" and problems == []
    records, problems = load_file(path, display="catalogue.xlsx")
    assert problems == [], _reasons(problems)
    assert [r.key for r in records] == ["training:XL001", "training:XL002"]
    assert records[0].record.duration_hours == 14 and records[1].record.format == "distanciel"


def test_bad_catalogue_rows_are_each_reported_by_line(tmp_path):
    records, problems = load_file(bad_catalogue_csv(tmp_path / "mauvais.csv"), display="mauvais.csv")
    lines = sorted({p.line for p in problems})
    assert lines == [3, 4, 5], _reasons(problems)
    text = _reasons(problems)
    assert "département" in text and "modalité" in text and "durée" in text
    assert {r.record.id for r in records} == {"BAD1", "BAD5"}


def test_zip_bomb_and_xml_entities_are_refused_before_parsing(tmp_path):
    bomb = zip_bomb_docx(tmp_path / "bombe.docx")
    assert bomb.stat().st_size < 1_000_000
    sniffed, problems = check_upload(bomb, "bombe.docx")
    assert "bombe de décompression" in _reasons(problems)

    evil = tmp_path / "entites.xml"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>', encoding="utf-8")
    _, problems = check_upload(evil, "entites.xml")
    assert "DTD ou des entités" in _reasons(problems)

    # Plain XML (an official export) passes the safety check and goes to the loaders.
    plain = tmp_path / "export.xml"
    plain.write_text('<?xml version="1.0" encoding="UTF-8"?><lheo><offres/></lheo>', encoding="utf-8")
    sniffed, problems = check_upload(plain, "export.xml")
    assert sniffed.kind == "xml" and problems == []

    # The same trick inside a Word file is refused too.
    sneaky = tmp_path / "piege.docx"
    sneaky.write_bytes(zip_bytes({
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    }))
    _, problems = check_upload(sneaky, "piege.docx")
    assert "DTD ou des entités" in _reasons(problems)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("rapport.pdf", b"Bonjour, ceci est du texte.", "ne correspond pas"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "non reconnu"),
        ("vide.md", b"", "vide"),
        ("tableur.xlsx", zip_bytes({"a.txt": b"x"}), "pas un fichier XLSX"),
    ],
)
def test_type_is_sniffed_from_content(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    sniffed, problems = check_upload(path, name)
    assert sniffed is None and expected in _reasons(problems)


def test_pdf_named_txt_is_refused_with_the_fix(tmp_path):
    path = pdf_file(tmp_path / "x.pdf", ["Texte."])
    renamed = path.with_name("notes.txt")
    path.rename(renamed)
    _, problems = check_upload(renamed, "notes.txt")
    assert "renommez-le en .pdf" in _reasons(problems)


def test_build_applies_editions_and_reuses_vectors(tmp_path, starter_dir, embedder):
    """A new edition replaces the older file whole; records gone from it disappear."""
    from assistant import Index
    from ingest.library import Upload, build

    index = Index(make_settings(tmp_path / "data"), embedder=embedder)
    (tmp_path / "v1").mkdir()
    v1 = catalogue_csv(tmp_path / "v1" / "ateliers.csv", [
        training_row("AT001", "Atelier d'apiculture connectée", "Installer une balance connectée sous une ruche."),
        training_row("AT002", "Atelier de compostage", "Gérer un composteur collectif."),
    ])
    first = build(starter_dir, [Upload(id=1, path=v1, filename="ateliers.csv", new=True)], index)
    kb = index.snapshot()
    assert {"AT001", "AT002"} <= set(kb.trainings)
    assert first.documents[1][:2] == (2, 2)
    assert "ateliers.csv" in kb.trainings["AT001"].sources

    (tmp_path / "v2").mkdir()
    v2 = catalogue_csv(tmp_path / "v2" / "ateliers-2027.csv", [
        training_row("AT001", "Atelier d'apiculture connectée (édition 2027)", "Installer une balance connectée sous une ruche."),
        training_row("AT003", "Atelier de réparation de vélos", "Réparer une crevaison."),
    ])
    second = build(starter_dir, [Upload(id=1, path=v1, filename="ateliers.csv"), Upload(id=2, path=v2, filename="ateliers-2027.csv", new=True)], index)
    kb = index.snapshot()
    assert second.replaced == {1: 2}
    assert "AT002" not in kb.trainings and "AT003" in kb.trainings
    assert kb.trainings["AT001"].title.endswith("(édition 2027)")
    # Unchanged passages are not embedded again: only the two rows of the new edition are.
    assert second.report.embedded <= 2
    # Uploaded passages are marked so the assistant answers from them.
    assert all(c.metadata.get("uploaded") for c in kb.chunks if c.record_key.startswith("training:AT"))
    index.close()


def test_two_new_files_with_the_same_ids_are_an_error(tmp_path, starter_dir, embedder):
    from assistant import Index
    from ingest import IngestError
    from ingest.library import Upload, build

    index = Index(make_settings(tmp_path / "data"), embedder=embedder)
    a = catalogue_csv(tmp_path / "a.csv", [training_row("DUP01", "Atelier A", "Apprendre.")])
    b = catalogue_csv(tmp_path / "b.csv", [training_row("DUP01", "Atelier B", "Apprendre.")])
    with pytest.raises(IngestError) as caught:
        build(starter_dir, [Upload(id=1, path=a, filename="a.csv", new=True), Upload(id=2, path=b, filename="b.csv", new=True)], index)
    assert "identifiant en double" in _reasons(caught.value.problems)
    assert index.is_empty()
    index.close()
