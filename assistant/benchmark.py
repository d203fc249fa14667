"""``orientia bench``: answer latency alone and under concurrent load, embedding speed, memory."""

from __future__ import annotations

import json
import resource
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .evaluation import load_questions
from .service import AnswerTimings, Assistant

__all__ = ["run_bench", "format_bench"]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_bench(assistant: Assistant, questions_path: Path, *, rounds: int = 3, concurrency: int = 4) -> dict[str, Any]:
    """Measure on the evaluation questions (first turns only, so each stands alone)."""
    items = [q for q in load_questions(questions_path) if not q.get("follows")]
    questions = [q["question"] for q in items]
    kb = assistant.knowledge()
    assistant.answer(questions[0])  # warm caches and the model

    alone: list[float] = []
    parts: dict[str, list[float]] = {k: [] for k in ("profile", "embed", "dense", "lexical", "fusion", "recommend", "compose")}
    for _ in range(rounds):
        for question in questions:
            timings = AnswerTimings()
            started = time.perf_counter()
            assistant.answer(question, timings=timings)
            alone.append((time.perf_counter() - started) * 1000)
            for key in parts:
                parts[key].append(getattr(timings, key))

    def timed(question: str) -> float:
        started = time.perf_counter()
        assistant.answer(question)
        return (time.perf_counter() - started) * 1000

    loaded: list[float] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(rounds):
            loaded.extend(pool.map(timed, questions))
    wall = time.perf_counter() - started

    # Raw model speed on real passages, beside what the last ingest achieved.
    sample = [c.metadata.get("embed_text", c.text) for c in kb.chunks[: min(32, len(kb.chunks))]]
    started = time.perf_counter()
    assistant.index.embedder.embed_documents(sample)
    raw_seconds = time.perf_counter() - started
    query_times = []
    for question in questions[:20]:
        started = time.perf_counter()
        assistant.index.embedder.embed_query(question)
        query_times.append((time.perf_counter() - started) * 1000)
    active = assistant.index.store.active_version() or {}
    stats = json.loads(active.get("stats") or "{}")

    return {
        "questions": len(questions),
        "rounds": rounds,
        "embedding_model": assistant.index.embedder.name,
        "alone_ms": {"p50": _percentile(alone, 0.5), "p95": _percentile(alone, 0.95), "mean": statistics.fmean(alone)},
        "breakdown_ms_p50": {k: _percentile(v, 0.5) for k, v in parts.items()},
        "breakdown_ms_mean": {k: statistics.fmean(v) for k, v in parts.items()},
        "concurrent": {
            "workers": concurrency,
            "p50": _percentile(loaded, 0.5),
            "p95": _percentile(loaded, 0.95),
            "throughput_per_s": len(loaded) / wall if wall else 0.0,
        },
        "embedding": {
            "raw_passages_per_s": len(sample) / raw_seconds if raw_seconds else 0.0,
            "query_ms_p50": _percentile(query_times, 0.5),
            "last_ingest": {
                "chunks": stats.get("chunks"), "embedded": stats.get("embedded"),
                "embed_seconds": stats.get("embed_seconds"), "seconds": stats.get("seconds"),
            },
        },
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def format_bench(r: dict[str, Any]) -> str:
    b = r["breakdown_ms_p50"]
    c = r["concurrent"]
    e = r["embedding"]
    ingest = e["last_ingest"]
    ingest_line = "n/a"
    if ingest.get("embedded"):
        ingest_line = f"{ingest['embedded'] / ingest['embed_seconds']:.1f} passages/s sur le dernier import ({ingest['embedded']} calculés)"
    elif ingest.get("chunks") is not None:
        ingest_line = f"dernier import : {ingest['chunks']} passages, 0 calculé (tous réutilisés), {ingest['seconds']:.1f} s"
    return "\n".join([
        f"Questions : {r['questions']} × {r['rounds']} passes, modèle {r['embedding_model']}",
        f"Assistant.answer seul        : p50 {r['alone_ms']['p50']:.0f} ms, p95 {r['alone_ms']['p95']:.0f} ms",
        f"  répartition (p50, ms)      : profil {b['profile']:.1f}, embedding {b['embed']:.1f}, dense {b['dense']:.1f}, "
        f"lexical {b['lexical']:.1f}, fusion {b['fusion']:.1f}, recommandation {b['recommend']:.1f}, rédaction {b['compose']:.1f}",
        f"En charge ({c['workers']} simultanées) : p50 {c['p50']:.0f} ms, p95 {c['p95']:.0f} ms, {c['throughput_per_s']:.1f} réponses/s",
        f"Modèle seul                  : {e['raw_passages_per_s']:.1f} passages/s, requête p50 {e['query_ms_p50']:.0f} ms",
        f"Import                       : {ingest_line}",
        f"Mémoire (RSS max)            : {r['max_rss_mb']:.0f} Mo",
    ])
