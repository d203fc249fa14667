"""``orientia bench --ingest-pages``: the ingest measurement runs end to end on a tiny document."""

from __future__ import annotations

from ingest.bench import (
    format_first_start,
    format_ingest_bench,
    run_first_start,
    run_ingest_bench,
    synthetic_docx,
)
from ingest.loaders import load_file

from ..conftest import make_settings


def test_synthetic_document_has_one_section_per_page(tmp_path):
    path = synthetic_docx(tmp_path / "rapport.docx", 3)
    [record], problems = load_file(path)
    assert problems == []
    assert [line for line in record.record.body.splitlines() if line.startswith("## ")] == ["## Page 1", "## Page 2", "## Page 3"]


def test_ingest_bench_measures_the_upload_and_the_model(tmp_path):
    settings = make_settings(tmp_path / "data")
    report = run_ingest_bench(settings, pages=1, batch_sizes=(2,))
    assert report["pages"] == 1 and report["passages"] >= 2
    assert report["embedded"] == report["passages"], "every passage of a new document is embedded"
    # Every other passage of the version is reused, except those searched by keywords only
    # (the ROME sheets), which are never embedded.
    assert report["reused"] == report["version_passages"] - report["lexical_passages"] - report["passages"]
    assert report["end_to_end_seconds"] > 0 and report["raw_seconds"] > 0 and report["ratio"] > 0
    assert set(report["batch_sizes_per_s"]) == {2, 16}
    text = format_ingest_bench(report)
    assert "rapport bout en bout / modèle seul" in text and "objectif ≥ 0,8" in text
    assert not (tmp_path / "data").exists(), "the measurement works in a temporary data folder"


def test_first_start_is_measured_on_an_empty_data_folder(tmp_path):
    settings = make_settings(tmp_path / "data")
    report = run_first_start(settings)
    assert report["records"] > 5000 and report["passages"] > report["embedded"]
    assert report["embedded"] == 0, "the bundled vectors cover the bundled knowledge"
    assert report["seconds"] >= report["import_seconds"] + report["load_seconds"] > 0
    assert "Premier démarrage" in format_first_start(report)
    assert not (tmp_path / "data").exists(), "the measurement works in a temporary data folder"
