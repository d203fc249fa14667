"""The index: records and chunks in the relational store, vectors in Chroma, BM25 in memory.

Every ingest writes a *new version* (a new Chroma collection and new rows) and then switches to
it in one database transaction, so the previous version serves until the switch and a failed
ingest leaves it serving. Vectors of unchanged chunks are copied from the previous version by
content hash: re-ingesting unchanged files embeds nothing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .config import Settings
from .embeddings import Embedder, load_embedder
from .errors import NotReady, storage_errors_said
from .lexical import LexicalIndex
from .models import (
    Certification,
    Chunk,
    Document,
    Place,
    Role,
    StudySection,
    Training,
)
from .store import Store, process_id
from .vectors import VectorStore

__all__ = ["Index", "IndexBusy", "KnowledgeBase", "PublishReport", "chunk_hash", "RECORD_MODELS"]

log = logging.getLogger(__name__)

#: the lease a process holds while it writes the index (see ``Index.writing``)
WRITE_LEASE = "index-write"
#: how long a write lease lasts unless renewed (a third of it between renewals)
LEASE_SECONDS = 30.0


class IndexBusy(NotReady):
    """Another process is writing the index (an ingest or a rollback in progress)."""

    retry_after = 30

    def __init__(self, holder: str | None) -> None:
        super().__init__(
            "Un autre import de l'index est en cours. Réessayez quand il sera terminé.",
            log_message=f"index write lease held by {holder or 'another process'}",
        )

RECORD_MODELS: dict[str, type[BaseModel]] = {
    "training": Training,
    "certification": Certification,
    "role": Role,
    "study": StudySection,
    "document": Document,
    "place": Place,
}

ProgressCallback = Callable[[int, int], None]


def chunk_hash(model: str, text: str) -> str:
    """Key of a chunk's vector: the model and the embedded text, nothing else.

    Metadata is rewritten with every version, so changing it never costs an embedding.
    """
    digest = hashlib.sha256()
    digest.update(model.encode())
    digest.update(b"\0")
    digest.update(text.encode())
    return digest.hexdigest()[:32]


@dataclass
class PublishReport:
    """What an index build did."""

    version: int
    records: int
    chunks: int
    embedded: int
    reused: int
    seconds: float
    embed_seconds: float


@dataclass
class KnowledgeBase:
    """One loaded index version: everything a question needs, read-only."""

    version: int
    collection: str
    trainings: dict[str, Training] = field(default_factory=dict)
    certifications: dict[str, Certification] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    study: dict[str, StudySection] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    chunk_rows: dict[str, int] = field(default_factory=dict)
    record_chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    lexical: LexicalIndex | None = None

    def passages(self, record_key: str) -> list[Chunk]:
        """The chunks of a record (``kind:id``), in order."""
        return self.record_chunks.get(record_key, [])

    @functools.cached_property
    def heading_counts(self) -> Counter[str]:
        """In how many passage headings each word stem appears (« formation »: many; « pass »:
        one): what makes a word name one subject."""
        from .understanding.lexicon import normalise_words

        return Counter(w for c in self.chunks if c.kind in ("study", "document") for w in set(normalise_words(c.section)))

    def record(self, key: str):
        """A record by key ``kind:id``, or None."""
        kind, _, ident = key.partition(":")
        tables: dict[str, Mapping[str, BaseModel]] = {
            "training": self.trainings,
            "certification": self.certifications,
            "role": self.roles,
            "study": self.study,
            "document": self.documents,
            "place": self.places,
        }
        return tables.get(kind, {}).get(ident)

    def bloc(self, code: str):
        """A bloc by its code, with its certification, or None."""
        cert = self.certifications.get(code.split("BC")[0])
        if cert is None:
            return None
        for bloc in cert.blocs:
            if bloc.code == code:
                return cert, bloc
        return None


class Index:
    """Reads and writes the versioned index. One instance per process."""

    #: passages embedded per model call while building a version (see ``orientia bench --ingest-pages``)
    embed_batch = 16

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        seed_vectors: Path | None | bool = True,
    ) -> None:
        self.settings = settings
        # Vectors of the bundled corpus computed ahead of time (``orientia ingest --save-vectors``):
        # a first start embeds only what changed since they were saved.
        if seed_vectors is True:
            seed_vectors = settings.bundled_knowledge / "vectors"
        self.seed_vectors: Path | None = seed_vectors or None
        self.store = Store(settings.sqlalchemy_url, connect_seconds=settings.database_connect_seconds)
        self._embedder = embedder
        self._vectors: VectorStore | None = None
        self._snapshot: KnowledgeBase | None = None
        self._lock = threading.Lock()
        # Writes (ingest, rollback, clean-up) are one at a time: in this process (the lock) and
        # among every process sharing the database (the "index-write" lease, see ``writing``).
        self._write_lock = threading.RLock()
        self._lease_depth = 0

    # -- components, built on first use ------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedding_model)
        return self._embedder

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = VectorStore(
                embedder=self.embedder,
                path=self.settings.chroma_path,
                url=self.settings.chroma_url,
                timeout=self.settings.chroma_timeout_seconds,
            )
        return self._vectors

    def close(self) -> None:
        self.store.dispose()

    @contextlib.contextmanager
    def writing(self, *, wait: float | None = None) -> Iterator[None]:
        """Hold the right to write the index, here and in every process sharing the database.

        Re-entrant in a thread. The database lease is renewed while held, so a process that dies
        mid-ingest frees it (at once on this machine, after ``LEASE_SECONDS`` elsewhere).

        Args:
            wait: seconds to wait for another process's write to end (default
                ``settings.index_write_wait_seconds``); 0 fails at once.

        Raises:
            IndexBusy: another process kept writing beyond ``wait``.
        """
        wait = self.settings.index_write_wait_seconds if wait is None else wait
        with self._write_lock:
            if self._lease_depth:
                self._lease_depth += 1
                try:
                    yield
                finally:
                    self._lease_depth -= 1
                return
            holder = process_id()
            deadline = time.monotonic() + wait
            while not self.store.acquire_lease(WRITE_LEASE, holder, LEASE_SECONDS):
                if time.monotonic() >= deadline:
                    raise IndexBusy(self.store.lease_holder(WRITE_LEASE))
                time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
            stop = threading.Event()

            def renew() -> None:
                while not stop.wait(LEASE_SECONDS / 3):
                    try:
                        self.store.acquire_lease(WRITE_LEASE, holder, LEASE_SECONDS)
                    except Exception:  # noqa: BLE001 - the next renewal tries again
                        log.warning("Could not renew the index write lease", exc_info=True)

            renewer = threading.Thread(target=renew, name="orientia-lease", daemon=True)
            renewer.start()
            self._lease_depth = 1
            try:
                yield
            finally:
                self._lease_depth = 0
                stop.set()
                renewer.join()
                self.store.release_lease(WRITE_LEASE, holder)

    def reachable(self) -> bool:
        """Whether the vector store answers (always, embedded; a heartbeat to a Chroma server)."""
        if not self.settings.chroma_url:
            return True
        from .vectors import VectorsUnavailable

        try:
            return self.vectors.heartbeat()
        except VectorsUnavailable:
            return False

    # -- reading -------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self.store.active_version() is None

    def snapshot(self) -> KnowledgeBase | None:
        """The active version, reloaded when another process or thread switched versions."""
        active = self.store.active_version()
        if active is None:
            return None
        current = self._snapshot
        if current is not None and current.version == active["id"]:
            return current
        with self._lock:
            if self._snapshot is None or self._snapshot.version != active["id"]:
                self._snapshot = self._load(active)
            return self._snapshot

    def _load(self, active: dict[str, Any]) -> KnowledgeBase:
        started = time.perf_counter()
        kb = KnowledgeBase(version=active["id"], collection=active["collection"])
        tables: dict[str, dict[str, Any]] = {
            "training": kb.trainings,
            "certification": kb.certifications,
            "role": kb.roles,
            "study": kb.study,
            "document": kb.documents,
            "place": kb.places,
        }
        for row in self.store.load_records(active["id"]):
            model = RECORD_MODELS[row["kind"]]
            record = model.model_validate(row["data"])
            tables[row["kind"]][row["key"].split(":", 1)[1]] = record
        kb.chunks = [Chunk.model_validate(c) for c in self.store.load_chunks(active["id"])]
        kb.chunk_rows = {c.id: i for i, c in enumerate(kb.chunks)}
        for chunk in kb.chunks:
            kb.record_chunks.setdefault(chunk.record_key, []).append(chunk)
        kb.lexical = LexicalIndex([str(c.metadata.get("search_text", c.text)) for c in kb.chunks])
        # Open the collection now so the first question does not pay for it.
        self.vectors.collection(kb.collection)
        log.info(
            "Loaded index version %s (%d chunks) in %.2f s",
            kb.version, len(kb.chunks), time.perf_counter() - started,
        )
        return kb

    # -- writing -------------------------------------------------------------------------------

    def publish(
        self,
        records: Sequence[dict[str, Any]],
        chunks: Sequence[Chunk],
        *,
        progress: ProgressCallback | None = None,
    ) -> PublishReport:
        """Build a new version from validated records and chunks, then switch to it.

        Args:
            records: ``{"key", "kind", "source_file", "data"}`` rows (data is the record's dump).
            chunks: the chunks to index, with their embedded text in ``metadata["embed_text"]``.
            progress: called with (done, total) while new chunks are embedded.

        Returns:
            What was written, embedded and reused.

        Raises:
            ValueError: a record of a kind :meth:`snapshot` could not load (nothing is written).
        """
        unknown = sorted({str(r["kind"]) for r in records} - RECORD_MODELS.keys())
        if unknown:
            raise ValueError(f"record kinds the index cannot load: {', '.join(unknown)}")
        with storage_errors_said(), self.writing():
            return self._publish(records, chunks, progress)

    def _publish(self, records, chunks, progress) -> PublishReport:
        started = time.perf_counter()
        self._cleanup_crashed()
        model = self.embedder.name
        previous = self.store.active_version()
        reusable: dict[str, list[float]] = self._seed(model)
        if previous and previous["embedding_model"] == model:
            reusable.update(self.vectors.embeddings_by_hash(previous["collection"]))

        version, collection = self.store.begin_version(
            collection_prefix="orientia", embedding_model=model
        )
        all_chunks = chunks
        # Lexical-only chunks (``metadata["lexical_only"]``: e.g. the 1,584 ROME sheets) are
        # searched by BM25 and read from the store but never embedded: e5 costs ~1 s a passage.
        chunks = [c for c in all_chunks if not c.metadata.get("lexical_only")]
        try:
            texts = [c.metadata.get("embed_text", c.text) for c in chunks]
            vectors: list[list[float] | None] = [reusable.get(c.hash) for c in chunks]
            missing = [i for i, v in enumerate(vectors) if v is None]
            embed_started = time.perf_counter()
            batch = self.embed_batch
            for start in range(0, len(missing), batch):
                rows = missing[start : start + batch]
                for i, vector in zip(rows, self.embedder.embed_documents([texts[i] for i in rows]), strict=True):
                    vectors[i] = vector
                if progress:
                    progress(min(start + batch, len(missing)), len(missing))
            embed_seconds = time.perf_counter() - embed_started
            self.vectors.add(
                collection,
                ids=[c.id for c in chunks],
                embeddings=vectors,  # type: ignore[arg-type]
                documents=[c.text for c in chunks],
                metadatas=[_chroma_metadata(c) for c in chunks],
            )
            self.store.write_version_content(
                version, records, [c.model_dump(mode="json") for c in all_chunks]
            )
            if self.vectors.count(collection) != len(chunks):
                raise RuntimeError("Chroma collection size does not match the chunks written")
            self._smoke_test(collection, chunks, vectors)
        except BaseException:
            log.exception("Index build of version %s failed; the previous version keeps serving", version)
            self.store.fail_version(version)
            self.vectors.drop(collection)
            raise
        report = PublishReport(
            version=version,
            records=len(records),
            chunks=len(all_chunks),
            embedded=len(missing),
            reused=len(chunks) - len(missing),
            seconds=0.0,
            embed_seconds=embed_seconds,
        )
        self.store.activate_version(version, stats=report.__dict__)
        for name in self.store.purge_versions(keep=version, keep_retired=self.settings.keep_versions):
            self.vectors.drop(name)
        report.seconds = time.perf_counter() - started
        log.info(
            "Index version %s active: %d records, %d chunks (%d embedded, %d reused) in %.1f s",
            version, report.records, report.chunks, report.embedded, report.reused, report.seconds,
        )
        return report

    def _seed_file(self, model: str) -> Path | None:
        if self.seed_vectors is None:
            return None
        return self.seed_vectors / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', model)}.npz"

    def _seed(self, model: str) -> dict[str, list[float]]:
        path = self._seed_file(model)
        if path is None or not path.exists():
            return {}
        import numpy as np

        with np.load(path) as data:
            return {str(h): v for h, v in zip(data["hashes"], data["vectors"].tolist(), strict=True)}

    def save_seed(self) -> Path:
        """Write the active version's vectors as the seed for later first starts."""
        import numpy as np

        active = self.store.active_version()
        path = self._seed_file(self.embedder.name)
        if active is None or path is None:
            raise RuntimeError("Nothing to save: no active index version or no seed folder")
        vectors = self.vectors.embeddings_by_hash(active["collection"])
        hashes = sorted(vectors)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, hashes=np.array(hashes), vectors=np.array([vectors[h] for h in hashes], dtype=np.float32)
        )
        return path

    def _smoke_test(self, collection: str, chunks: Sequence[Chunk], vectors) -> None:
        """A new version must answer a query before it serves: its first passage finds itself."""
        if not chunks:
            return
        # Identical passages (a repeated page header) share a vector: any of them may come first.
        found = self.vectors.query(collection, vectors[0], k=min(10, len(chunks)))
        if not found or (chunks[0].id not in {i for i, _ in found} and found[0][1] < 0.999):
            raise RuntimeError("Smoke query on the new collection did not find its own passage")

    def rollback(self, version: int) -> dict[str, Any]:
        """Serve a kept earlier ``version`` again: one transaction, the current one is kept too.

        Raises:
            LookupError: when ``version`` is not a retired version that was kept.
        """
        with self.writing():
            return self.store.rollback(version)

    def versions(self) -> list[dict[str, Any]]:
        """The active version and the retired ones kept for rollback, newest first."""
        return self.store.list_versions()

    def cleanup_crashed(self) -> None:
        """Remove versions left half-built by a killed process (called at start).

        Skipped while another process writes the index: its version being built is not a crash.
        """
        try:
            with self.writing(wait=0):
                self._cleanup_crashed()
        except IndexBusy:
            log.info("Another process is writing the index: no clean-up of half-built versions now")

    def _cleanup_crashed(self) -> None:
        for row in self.store.stale_building_versions():
            log.warning("Removing version %s left half-built by an interrupted ingest", row["id"])
            self.store.fail_version(row["id"])
            self.vectors.drop(row["collection"])


def _chroma_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "kind": chunk.kind,
        "record_key": chunk.record_key,
        "title": chunk.title[:500],
        "source": chunk.source[:500],
        "hash": chunk.hash,
        "illustrative": chunk.illustrative,
    }
    for key, value in chunk.metadata.items():
        if key in ("embed_text", "search_text"):
            continue
        meta[key] = value
    return meta
