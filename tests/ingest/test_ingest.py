"""Ingest into real embedded Chroma and SQLite: versions, content hashes, validation, failures."""

from __future__ import annotations

import csv
import textwrap

import pytest

from assistant import Assistant, Index
from ingest import IngestError, check, ingest
from ingest.chunking import chunk_records
from ingest.pipeline import collect_files

from ..conftest import KNOWLEDGE, make_settings


def _assistant(data_dir, embedder, **index_options) -> Assistant:
    settings = make_settings(data_dir)
    return Assistant(settings, index=Index(settings, embedder=embedder, **index_options))


def _tiny_corpus(folder):
    """Two Markdown sections and a two-row catalogue: a few seconds to embed."""
    (folder / "study").mkdir(parents=True)
    (folder / "study" / "logistique.md").write_text(textwrap.dedent("""\
        ---
        id: famille-logistique-transport
        title: Logistique et transport
        type: famille
        sector: famille-logistique-transport
        rome_codes: [N1103]
        exposure: moyenne
        sources: ["Test — section de logistique"]
        ---
        # Logistique et transport
        ## Ce que l'IA change
        Dans les entrepôts, les préparateurs de commandes voient arriver la commande vocale et
        l'optimisation automatique des tournées de livraison.
        ## Compétences à développer
        Lire un tableau de bord de flux et vérifier les propositions d'un logiciel de planification.
        """), encoding="utf-8")
    (folder / "study" / "sante.md").write_text(textwrap.dedent("""\
        ---
        id: famille-sante-soin
        title: Santé et soin
        type: famille
        sector: famille-sante-soin
        rome_codes: [J1506]
        exposure: moyenne
        sources: ["Test — section santé"]
        ---
        # Santé et soin
        ## Ce que l'IA change
        À l'hôpital, l'imagerie médicale assistée aide les radiologues à repérer des anomalies.
        """), encoding="utf-8")
    (folder / "trainings").mkdir()
    _write_catalogue(folder / "trainings" / "catalogue.csv", [
        _training("T001", "Piloter un entrepôt avec l'IA", "59", "Lille"),
        _training("T002", "L'IA à l'hôpital : premiers pas", "80", "Amiens"),
    ])
    return folder


def _training(ident, title, department, city, **extra):
    row = {
        "id": ident, "intitule": title, "objectifs": "Découvrir les usages de l'IA.",
        "contenu": "Cas pratiques.", "organisme": "Exemple — organisme", "ville": city,
        "departement": department, "modalite": "présentiel", "duree_heures": "14", "prix_eur": "600",
        "financements": "plan;opco", "niveau_entree": "aucun prérequis", "niveau_sortie": "",
        "code_certification": "", "blocs": "", "codes_rome": "N1103", "competences": "tableaux de bord",
        "prochaines_sessions": "2027-03-01", "accessible_handicap": "oui", "url": "", "sources": "",
        "illustratif": "oui",
    }
    row.update(extra)
    return row


def _write_catalogue(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _chunk_ids(assistant):
    kb = assistant.knowledge()
    collection = assistant.index.vectors.collection(kb.collection)
    return sorted(collection.get()["ids"])


def test_ingest_starter_and_ask_cites_the_known_section(tmp_path, starter_dir, embedder):
    assistant = _assistant(tmp_path / "data", embedder)
    report = ingest([starter_dir], assistant.index)
    # Every chunk is stored; only those not marked lexical-only (bloc chunks) are in Chroma.
    dense = assistant.index.vectors.count(assistant.knowledge().collection)
    assert report.records > 0 and report.embedded + report.reused == dense < report.chunks

    answer = assistant.answer("Combien d'emplois l'IA pourrait-elle créer dans la région d'ici 2030 ?")
    assert answer.answered
    assert answer.citations[0].id.startswith("study:scenarios-2030:")
    assert "230 000" in answer.answer
    assistant.index.close()


def test_reingest_embeds_only_what_changed(tmp_path, embedder):
    corpus = _tiny_corpus(tmp_path / "knowledge")
    assistant = _assistant(tmp_path / "data", embedder, seed_vectors=False)
    first = ingest([corpus], assistant.index)
    assert first.embedded == first.chunks > 0

    again = ingest([corpus], assistant.index)
    assert again.embedded == 0 and again.reused == first.chunks
    assert again.version == first.version + 1

    # A changed file replaces its old chunks: one section re-embedded, no duplicates.
    path = corpus / "study" / "sante.md"
    path.write_text(path.read_text(encoding="utf-8").replace("radiologues", "manipulateurs radio"), encoding="utf-8")
    changed = ingest([corpus], assistant.index)
    assert changed.embedded == 1
    ids = _chunk_ids(assistant)
    assert len(ids) == len(set(ids)) == changed.chunks
    passage = assistant.source("study:famille-sante-soin:1")
    assert "manipulateurs radio" in passage.text and "radiologues" not in passage.text

    # A removed record disappears from the index, the API and the lexical side.
    _write_catalogue(corpus / "trainings" / "catalogue.csv", [_training("T001", "Piloter un entrepôt avec l'IA", "59", "Lille")])
    ingest([corpus], assistant.index)
    assert "training:T002:1" not in _chunk_ids(assistant)
    assert "T002" not in assistant.knowledge().trainings
    hits = assistant.retriever.search(assistant.knowledge(), "hôpital", k=10)
    assert all(h.chunk.record_key != "training:T002" for h in hits)
    # Only the active version and the ORIENTIA_KEEP_VERSIONS newest retired ones (for rollback) are kept.
    kept = assistant.index.versions()
    assert [v["status"] for v in kept] == ["active", "retired", "retired", "retired"]
    assert sorted(n for n in assistant.index.vectors.names() if n.startswith("orientia-")) == sorted(v["collection"] for v in kept)
    ingest([corpus], assistant.index)
    kept = assistant.index.versions()
    assert len(kept) == 4 and kept[-1]["id"] == 2, "the oldest retired version was purged"
    assert sorted(n for n in assistant.index.vectors.names() if n.startswith("orientia-")) == sorted(v["collection"] for v in kept)
    assistant.index.close()


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("catalogue.csv", None, ["catalogue.csv", "ligne 3", "T002", "prix"]),
        ("certif.yaml", "code: RNCP12345\ntitle: Titre\nblocs:\n  - code: RNCP12345BC01\n    title: [pas fermé\n", ["certif.yaml", "ligne", "YAML invalide"]),
    ],
)
def test_malformed_file_is_rejected_and_the_index_keeps_answering(tmp_path, starter_dir, embedder, filename, content, expected):
    assistant = _assistant(tmp_path / "data", embedder)
    ingest([starter_dir], assistant.index)
    version = assistant.knowledge().version
    before = assistant.answer("Quelles formations en IA pour un comptable ?")

    if content is None:
        rows = list(csv.DictReader((starter_dir / "trainings" / "catalogue.csv").open(encoding="utf-8")))
        rows[1]["id"], rows[1]["prix_eur"] = "T002", "-50"
        _write_catalogue(starter_dir / "trainings" / filename, rows)
    else:
        (starter_dir / "certifications" / filename).write_text(content, encoding="utf-8")

    with pytest.raises(IngestError) as caught:
        ingest([starter_dir], assistant.index)
    message = "\n".join(str(p) for p in caught.value.problems)
    for fragment in expected:
        assert fragment in message

    assert assistant.knowledge().version == version
    after = assistant.answer("Quelles formations en IA pour un comptable ?")
    assert [c.id for c in after.citations] == [c.id for c in before.citations]
    assistant.index.close()


def test_a_failure_while_building_leaves_the_previous_version_serving(tmp_path, embedder, monkeypatch):
    corpus = _tiny_corpus(tmp_path / "knowledge")
    assistant = _assistant(tmp_path / "data", embedder, seed_vectors=False)
    ingest([corpus], assistant.index)
    version = assistant.knowledge().version
    path = corpus / "study" / "sante.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Nouveau\nUn paragraphe ajouté sur la télésanté.\n", encoding="utf-8")

    def broken(texts):
        raise RuntimeError("disk full")

    # Fault injection on the real model: the build fails halfway.
    monkeypatch.setattr(assistant.index.embedder, "embed_documents", broken)
    with pytest.raises(RuntimeError):
        ingest([corpus], assistant.index)
    assert assistant.index.store.active_version()["id"] == version
    assert assistant.answer("l'imagerie médicale à l'hôpital").answered
    assert [n for n in assistant.index.vectors.names() if n.startswith("orientia-")] == [assistant.knowledge().collection]
    assistant.index.close()


def test_bundled_corpus_has_no_validation_problem():
    result = check([KNOWLEDGE])
    assert [str(p) for p in result.problems] == []
    counts = result.counts()
    assert counts["training"] >= 80 and counts["certification"] >= 100 and counts["role"] == 1584
    assert counts["study"] >= 15 and counts["place"] == 3782


def test_bundled_vector_seed_is_up_to_date(embedder):
    """`orientia ingest --save-vectors` must be re-run when the corpus changes."""
    import numpy as np

    result = check([KNOWLEDGE])
    chunks = chunk_records(result.records, model_name=embedder.name)
    with np.load(KNOWLEDGE / "vectors" / f"{embedder.name}.npz") as seed:
        known = set(map(str, seed["hashes"]))
    stale = [c.id for c in chunks if c.hash not in known and not c.metadata.get("lexical_only")]
    assert stale == [], "run `orientia ingest --save-vectors` to refresh knowledge/vectors"


def test_readme_of_knowledge_is_not_ingested():
    assert all(path.name != "README.md" for path, _ in collect_files([KNOWLEDGE]))


def test_a_long_section_is_cut_between_sentences(tmp_path, embedder):
    """An uploaded page with a long, hard-wrapped section: every passage starts a sentence and
    ends one (no passage begins in the middle of a line the author wrapped)."""
    (tmp_path / "study").mkdir()
    sentence = "Les agents d'accueil utilisent un outil de prise de rendez-vous\nqui propose des créneaux. "
    body = "# Accueil\n## Ce que l'IA change\n" + sentence * 30
    (tmp_path / "study" / "accueil.md").write_text(
        "---\nid: famille-accueil\ntitle: Accueil\ntype: famille\nsector: famille-accueil\n"
        "rome_codes: [M1601]\nexposure: moyenne\nsources: [\"Test — une longue section\"]\n---\n" + body,
        encoding="utf-8",
    )
    result = check([tmp_path])
    chunks = [c for c in chunk_records(result.records, model_name=embedder.name) if c.kind == "study"]
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("Les agents") and chunk.text.endswith("créneaux.")
