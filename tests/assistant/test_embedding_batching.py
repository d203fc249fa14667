"""Concurrent query embeddings share one engine call; repeated queries come from a hashed cache."""

from __future__ import annotations

import threading
import time

import numpy as np

QUESTIONS = [
    "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?",
    "Formation IA à distance de moins de 20 heures",
    "Quels métiers de la logistique sont exposés à l'IA ?",
    "Où se former au traitement des données dans la Somme ?",
    "What AI skills should an HR manager learn?",
    "Formation Python éligible au CPF",
]


def test_concurrent_queries_are_embedded_in_one_call_with_the_same_vectors(embedder):
    alone = {q: np.array(embedder._model.query([q])[0]) for q in QUESTIONS}
    embedder.cache._items.clear()
    results: dict[str, list[float]] = {}
    batches_before = embedder.batches

    def ask(question: str) -> None:
        results[question] = embedder.embed_query(question)

    # Hold the engine while every caller queues: whoever gets it next embeds them all at once.
    with embedder._lock:
        threads = [threading.Thread(target=ask, args=(q,)) for q in QUESTIONS]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(embedder._queue) < len(QUESTIONS):
            assert time.monotonic() < deadline, "the callers never queued"
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=120)

    assert embedder.batches == batches_before + 1
    for question in QUESTIONS:
        assert np.allclose(results[question], alone[question], atol=1e-5), question


def test_a_full_queue_is_embedded_in_several_calls(embedder):
    embedder.cache._items.clear()
    previous = embedder.max_batch
    embedder.max_batch = 2
    try:
        results = {}
        with embedder._lock:
            threads = [threading.Thread(target=lambda q=q: results.update({q: embedder.embed_query(q)})) for q in QUESTIONS[:5]]
            for thread in threads:
                thread.start()
            while len(embedder._queue) < 5:
                time.sleep(0.01)
        for thread in threads:
            thread.join(timeout=120)
    finally:
        embedder.max_batch = previous
    assert sorted(results) == sorted(QUESTIONS[:5]) and all(len(v) == 384 for v in results.values())


def test_repeated_queries_come_from_a_cache_keyed_by_hash(embedder):
    embedder.cache._items.clear()
    hits = embedder.cache.hits
    first = embedder.embed_query(QUESTIONS[0])
    batches = embedder.batches
    again = embedder.embed_query(QUESTIONS[0])
    assert again == first and embedder.batches == batches and embedder.cache.hits == hits + 1
    again[0] = 42.0  # callers get a copy
    assert embedder.embed_query(QUESTIONS[0]) == first
    keys = list(embedder.cache._items)
    assert keys and all(isinstance(k, bytes) and len(k) == 32 for k in keys), "SHA-256 digests, not the text"


def test_the_cache_keeps_only_the_most_recent(embedder):
    from assistant.embeddings import QueryCache

    cache = QueryCache(2)
    for text in ("a", "b", "c"):
        cache.put(cache.key(text), np.zeros(1))
    assert cache.get(cache.key("a")) is None and cache.get(cache.key("c")) is not None
    assert len(cache) == 2
