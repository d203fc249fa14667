"""The whole bundled corpus published into PostgreSQL, then served from it (the scaled mode's
relational side; the vectors stay in embedded Chroma here)."""

from __future__ import annotations

from assistant import Assistant, Index
from ingest import ingest

from ..conftest import KNOWLEDGE, make_settings


def test_bundled_corpus_ingests_into_postgresql_and_answers(tmp_path, embedder, postgres_database):
    settings = make_settings(tmp_path / "data", database_url=postgres_database)
    index = Index(settings, embedder=embedder)
    report = ingest([KNOWLEDGE], index)
    assert report.records > 1000 and report.chunks > 1000
    assert len(index.store.load_records(report.version)) == report.records
    assert len(index.store.load_chunks(report.version)) == report.chunks
    index.close()

    # Another process's view: a new Index over the same database serves that version.
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    assert assistant.index.store.active_version()["id"] == report.version
    answer = assistant.answer("Je suis comptable à Arras, quelles compétences IA ?")
    assert answer.answered and answer.citations
    follow = assistant.answer("et en distanciel ?", conversation_id=answer.conversation_id)
    assert follow.conversation_id == answer.conversation_id and follow.profile.format == "distanciel"
    assistant.index.close()
