"""Chroma access: an embedded ``PersistentClient`` by default, a Chroma server by URL.

Chroma objects stay inside this module. The embedding function is always passed explicitly
(Chroma's default one would try to download a model), and passed again on every open because
Chroma stores only its name and config in the collection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .embeddings import Embedder, chroma_embedding_function
from .errors import NotReady

__all__ = ["VectorStore", "VectorsUnavailable"]

_BATCH = 500


class VectorsUnavailable(NotReady):
    """The Chroma server cannot be reached: answered at once (503), the next request tries again."""

    retry_after = 5

    def __init__(self, location: str, exc: BaseException) -> None:
        super().__init__(
            "La base de recherche est momentanément indisponible. Réessayez dans quelques secondes.",
            log_message=f"Chroma server at {location} unreachable ({type(exc).__name__})",
        )


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the Chroma server is down or silent (not a bad request)."""
    import httpx

    # Chroma's client re-raises some connection errors as a ValueError: look down the chain too.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class VectorStore:
    """The dense side of the index: one Chroma collection per index version."""

    def __init__(
        self, *, embedder: Embedder, path: Path | None = None, url: str = "", timeout: float = 10.0
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            parsed = urlparse(url)
            self.location = url
            try:
                self.client = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            except Exception as exc:
                if _unreachable(exc):
                    raise VectorsUnavailable(url, exc) from exc
                raise
            _bound_http_timeout(self.client, timeout)
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self.location = str(path)
        self.embedder = embedder
        self._function = chroma_embedding_function(embedder)
        self._collections: dict[str, Any] = {}

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    def collection(self, name: str):
        if name not in self._collections:
            with self._reaching():
                self._collections[name] = self.client.get_or_create_collection(
                    name=name,
                    embedding_function=self._function,
                    configuration={"hnsw": {"space": "cosine"}},
                )
        return self._collections[name]

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn "the server is down" into :class:`VectorsUnavailable`; other errors pass."""
        try:
            yield
        except VectorsUnavailable:
            raise
        except Exception as exc:
            if _unreachable(exc):
                raise VectorsUnavailable(self.location, exc) from exc
            raise

    def names(self) -> list[str]:
        with self._reaching():
            return [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]

    def drop(self, name: str) -> None:
        self._collections.pop(name, None)
        try:
            self.client.delete_collection(name)
        except Exception:  # noqa: BLE001 - already gone is fine
            pass

    def embeddings_by_hash(self, name: str) -> dict[str, list[float]]:
        """Every stored vector of a collection keyed by its chunk content hash."""
        if name not in self.names():
            return {}
        got = self.collection(name).get(include=["embeddings", "metadatas"])
        out: dict[str, list[float]] = {}
        for meta, vector in zip(got["metadatas"] or [], got["embeddings"], strict=False):
            if meta and meta.get("hash"):
                out[str(meta["hash"])] = list(map(float, vector))
        return out

    def add(
        self,
        name: str,
        *,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        collection = self.collection(name)
        for start in range(0, len(ids), _BATCH):
            end = start + _BATCH
            with self._reaching():
                collection.add(
                    ids=list(ids[start:end]),
                    embeddings=[list(v) for v in embeddings[start:end]],
                    documents=list(documents[start:end]),
                    metadatas=list(metadatas[start:end]),
                )

    def count(self, name: str) -> int:
        with self._reaching():
            return self.collection(name).count()

    def query(
        self, name: str, vector: Sequence[float], *, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) pairs, best first."""
        collection = self.collection(name)
        with self._reaching():
            result = collection.query(
                query_embeddings=[list(vector)], n_results=k, where=where or None, include=["distances"]
            )
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result["distances"] else []
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=False)]

    def langchain(self, name: str):
        """A LangChain vector store over the same collection (used by the dense-only baseline)."""
        from langchain_chroma import Chroma

        from .embeddings import langchain_embeddings

        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=langchain_embeddings(self.embedder),
        )


def _bound_http_timeout(client: Any, seconds: float) -> None:
    """Give the Chroma HTTP client a deadline (it has none): a silent server fails fast, not never.

    Chroma builds its ``httpx.Client`` with ``timeout=None`` and offers no setting for it; the
    session is reached through the client's server object.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 3.0))
