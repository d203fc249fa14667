"""The `orientia` command, invoked in-process with Typer's runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from web.cli import app

from .conftest import KNOWLEDGE

runner = CliRunner()


def test_ingest_check_on_the_bundled_corpus():
    result = runner.invoke(app, ["ingest", "--check", str(KNOWLEDGE)])
    assert result.exit_code == 0, result.output
    assert "0 problème(s)" in result.output


def test_ingest_check_reports_problems_and_fails(tmp_path):
    bad = tmp_path / "catalogue.csv"
    bad.write_text("id,intitule,organisme,modalite,duree_heures,prix_eur\nX1,Titre,Org,présentiel,-3,10\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", "--check", str(bad)])
    assert result.exit_code == 1
    assert "catalogue.csv, ligne 2, enregistrement « X1 »" in result.output
    assert "durée (heures) : doit être strictement positif" in result.output


def test_a_rejected_ingest_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(tmp_path / "data"))
    bad = tmp_path / "roles.yaml"
    bad.write_text("- id: x\n  label: X\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 1
    assert "rien n'a été écrit" in result.output
    assert "code ROME : champ obligatoire manquant" in result.output
    from assistant import Index, Settings

    assert Index(Settings(_env_file=None)).is_empty()


def _observations(data_dir) -> int:
    from assistant.store import Store

    store = Store(f"sqlite:///{data_dir / 'orientia.sqlite3'}")
    try:
        return len(store.load_observations())
    finally:
        store.dispose()


def test_ask_json(corpus_copy, monkeypatch):
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(corpus_copy))
    before = _observations(corpus_copy)
    result = runner.invoke(app, ["ask", "Quelles formations en IA pour un comptable ?", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["answered"] and body["citations"] and body["trainings"]
    assert _observations(corpus_copy) == before + 1, "a question asked is recorded in the observatory"


def test_ask_text_lists_sources(corpus_copy, monkeypatch):
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(corpus_copy))
    result = runner.invoke(app, ["ask", "Comment financer une formation avec mon CPF ?"])
    assert result.exit_code == 0, result.output
    assert "Sources :" in result.output and "[1]" in result.output


def test_eval_runs_on_a_small_set(corpus_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(corpus_copy))
    questions = tmp_path / "q.yaml"
    questions.write_text(
        '- id: a\n  question: "Je suis comptable à Arras, que dois-je apprendre sur l\'IA ?"\n'
        '  expect_sources: ["role:M1203"]\n  expect_profile: {role: M1203, department: "62"}\n'
        '- id: b\n  question: "Donne-moi la recette de la carbonade flamande."\n  out_of_scope: true\n',
        encoding="utf-8",
    )
    before = _observations(corpus_copy)
    result = runner.invoke(app, ["eval", "--questions", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    assert _observations(corpus_copy) == before, "evaluation questions are not recorded in the observatory"
    report = json.loads(result.output[result.output.index("{"):])["questions"]
    assert report["orientia"]["recall@5"] == 1.0
    assert report["orientia"]["out_of_scope_declined"] == 1.0
    assert report["orientia"]["profile_overall"] == 1.0


def test_a_held_out_run_prints_scores_but_never_its_missed_questions(corpus_copy, monkeypatch, tmp_path):
    """Nobody tunes on a held-out set: its report names no question, only its scores."""
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(corpus_copy))
    questions = tmp_path / "q.yaml"
    # One question is missed on purpose (an expected source nothing returns).
    questions.write_text(
        '- id: secret-question\n  question: "Je suis comptable à Arras, que dois-je apprendre ?"\n'
        '  expect_sources: ["study:nothing-like-this"]\n',
        encoding="utf-8",
    )
    conversations = tmp_path / "c.yaml"
    conversations.write_text(
        '- id: secret-conversation\n  turns:\n    - say: "Je suis comptable à Arras"\n      expect: {job: J1506}\n',
        encoding="utf-8",
    )
    common = ["eval", "--questions", str(questions), "--conversations", str(conversations), "--no-baseline"]
    development = runner.invoke(app, common)
    assert development.exit_code == 0, development.output
    assert "secret-question" in development.output and "secret-conversation" in development.output
    heldout = runner.invoke(app, [*common, "--heldout"])
    assert heldout.exit_code == 0, heldout.output
    assert "recall@5" in heldout.output and "tours entièrement justes" in heldout.output
    assert "secret-question" not in heldout.output and "secret-conversation" not in heldout.output
