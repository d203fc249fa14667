"""``orientia bench``: the first start on an empty data folder, and (``--ingest-pages N``) an
N-page upload end to end beside the model's raw speed.

A synthetic Word document of N pages (one ``Page n`` section each, ~1,500 characters of varied
French text) goes through the admin path in a temporary data folder: safety checks, parsing,
validation, chunking, embedding of its new passages, a new index version built beside the live
one and switched to. The same passages are then embedded by the model alone, and a few batch
sizes are tried on them.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant import Index, Settings

from .documents import check_upload
from .library import Upload, build
from .pipeline import ingest

__all__ = ["run_ingest_bench", "format_ingest_bench", "synthetic_docx", "run_first_start", "format_first_start"]

_WORDS = (
    "entreprise salariés compétences intelligence artificielle données formation atelier outil "
    "production logistique comptabilité service client qualité sécurité région emploi métier "
    "automatisation analyse prévision rapport équipe projet apprentissage pratique réglementation "
    "confidentialité modèle tableau indicateur stock transport commande facture planning "
    "maintenance capteur contrôle usine agence conseil accompagnement évaluation certification"
).split()


def synthetic_docx(path: Path, pages: int, *, seed: int = 7) -> Path:
    """A Word document of ``pages`` pages of distinct French sentences."""
    import docx
    from docx.enum.text import WD_BREAK

    rng = random.Random(seed)
    document = docx.Document()
    document.core_properties.title = "Rapport synthétique de mesure"
    for page in range(1, pages + 1):
        document.add_heading(f"Page {page}", 1)
        for _ in range(3):
            sentences = []
            for _ in range(5):
                words = rng.sample(_WORDS, 12)
                sentences.append(f"{words[0].capitalize()} {' '.join(words[1:])} (page {page}, mesure {rng.randint(1, 9999)}).")
            document.add_paragraph(" ".join(sentences))
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))
    return path


def run_ingest_bench(settings: Settings, *, pages: int, batch_sizes: tuple[int, ...] = (8, 32)) -> dict[str, Any]:
    """Measure an N-page upload end to end and the model alone on the same passages."""
    from assistant.embeddings import load_embedder

    embedder = load_embedder(settings.embedding_model)
    folder = Path(tempfile.mkdtemp(prefix="orientia-bench-ingest-"))
    try:
        temp_settings = settings.model_copy(update={"data_dir": folder / "data", "database_url": "", "chroma_url": ""})
        index = Index(temp_settings, embedder=embedder)
        ingest([settings.bundled_knowledge], index)  # the live version (seeded vectors)
        document = synthetic_docx(folder / "rapport-synthetique.docx", pages)

        started = time.perf_counter()
        sniffed, problems = check_upload(document, document.name)
        if problems or sniffed is None:
            raise RuntimeError("; ".join(map(str, problems)))
        result = build(settings.bundled_knowledge, [Upload(id=1, path=document, filename=document.name, new=True)], index)
        end_to_end = time.perf_counter() - started

        kb = index.snapshot()
        assert kb is not None
        texts = [str(c.metadata.get("embed_text", c.text)) for c in kb.passages("document:rapport-synthetique")]
        # Searched by keywords only (the ROME sheets): neither embedded nor reused.
        lexical = sum(1 for c in kb.chunks if c.metadata.get("lexical_only"))
        batch = Index.embed_batch
        started = time.perf_counter()
        for start in range(0, len(texts), batch):
            embedder.embed_documents(texts[start : start + batch])
        raw = time.perf_counter() - started

        # Other batch sizes, on the first passages only (the default one was measured above).
        sample = texts[: max(batch_sizes)]
        tried = {batch: len(texts) / raw if raw else 0.0}
        for size in batch_sizes:
            started = time.perf_counter()
            for start in range(0, len(sample), size):
                embedder.embed_documents(sample[start : start + size])
            tried[size] = len(sample) / (time.perf_counter() - started)
        index.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = result.report
    return {
        "pages": pages,
        "passages": len(texts),
        "embedded": report.embedded,
        "reused": report.reused,
        "version_passages": report.chunks,
        "lexical_passages": lexical,
        "end_to_end_seconds": end_to_end,
        "embed_seconds": report.embed_seconds,
        "raw_seconds": raw,
        "end_to_end_per_s": len(texts) / end_to_end if end_to_end else 0.0,
        "raw_per_s": len(texts) / raw if raw else 0.0,
        "ratio": raw / end_to_end if end_to_end else 0.0,
        "batch": batch,
        "batch_sizes_per_s": dict(sorted(tried.items())),
        "sample": len(sample),
    }


def format_ingest_bench(r: dict[str, Any]) -> str:
    sizes = ", ".join(f"{size} : {rate:.1f}/s" for size, rate in r["batch_sizes_per_s"].items())
    return "\n".join([
        f"Import d'un document de {r['pages']} pages : {r['passages']} passages nouveaux "
        f"({r['embedded']} calculés ; la version compte {r['version_passages']} passages, {r['reused']} réutilisés, "
        f"{r['lexical_passages']} cherchés par mots-clés seulement)",
        f"  de bout en bout (vérification, lecture, validation, passages, nouvelle version, bascule) : "
        f"{r['end_to_end_seconds']:.1f} s, {r['end_to_end_per_s']:.1f} passages/s",
        f"  modèle seul sur les mêmes passages (lots de {r['batch']}) : {r['raw_seconds']:.1f} s, {r['raw_per_s']:.1f} passages/s",
        f"  rapport bout en bout / modèle seul : {r['ratio']:.2f} (objectif ≥ 0,8)",
        f"  tailles de lot essayées sur {r['sample']} passages : {sizes}",
    ])


def run_first_start(settings: Settings) -> dict[str, Any]:
    """What a first ``orientia serve`` on an empty data folder does before ``/readyz`` says 200,
    timed in this process: load the embedding model, import the bundled knowledge (its vectors
    are bundled too), load the new version, then read a first question (the French language
    pipeline and the referentials' lookups)."""
    from assistant import Assistant
    from assistant.embeddings import load_embedder

    folder = Path(tempfile.mkdtemp(prefix="orientia-bench-start-"))
    try:
        temp_settings = settings.model_copy(update={"data_dir": folder / "data", "database_url": "", "chroma_url": ""})
        started = time.perf_counter()
        embedder = load_embedder(settings.embedding_model)
        model = time.perf_counter() - started
        index = Index(temp_settings, embedder=embedder)
        mark = time.perf_counter()
        report = ingest([settings.bundled_knowledge], index)
        imported = time.perf_counter() - mark
        mark = time.perf_counter()
        assistant = Assistant(temp_settings, index=index)
        assistant.observing = False
        assistant.knowledge()
        loaded = time.perf_counter() - mark
        mark = time.perf_counter()
        assistant.answer("Je suis comptable à Arras, que dois-je apprendre sur l'IA ?")
        first = time.perf_counter() - mark
        index.close()
        return {
            "seconds": time.perf_counter() - started, "model_seconds": model, "import_seconds": imported,
            "load_seconds": loaded, "first_answer_seconds": first, "records": report.records,
            "passages": report.chunks, "embedded": report.embedded,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def format_first_start(r: dict[str, Any]) -> str:
    return (
        f"Premier démarrage (dossier vide, vecteurs fournis) : {r['seconds']:.1f} s (objectif ≤ 60 s) — modèle "
        f"{r['model_seconds']:.1f} s, import de {r['records']} enregistrements et {r['passages']} passages "
        f"({r['embedded']} calculés) {r['import_seconds']:.1f} s, chargement {r['load_seconds']:.1f} s, "
        f"première réponse {r['first_answer_seconds']:.1f} s"
    )
