"""An optional answer writer: any OpenAI-compatible chat model through LangChain.

The grounded writer first chooses the sources and recommendations; the model only rewrites them
into prose. Its output is checked: an answer that cites a source it was not given, or cites
nothing, is replaced by the grounded answer and the fallback is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from .compose import AnswerWriter, Draft, GroundedWriter, WriterInput, citation_markers
from .config import Settings
from .scope import is_injection

__all__ = ["LLMWriter", "make_writer", "load_prompt", "check_llm_answer"]

log = logging.getLogger(__name__)

_AUDIENCE = {
    "eleve": ("un ou une élève", "Phrases courtes, aucun sigle sans explication, parle des métiers et des études."),
    "rh": ("une équipe RH", "Compare les options pour une équipe et cite les financements OPCO et plan de développement des compétences."),
    "entreprise": ("une entreprise", "Donne la vue du secteur et les programmes d'accompagnement."),
    "salarie": ("un ou une salariée", "Propose un parcours personnel."),
}


@lru_cache(maxsize=4)
def load_prompt(name: str) -> str:
    """A prompt file of ``assistant/prompts``."""
    return (Path(__file__).parent / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def check_llm_answer(text: str, n_sources: int) -> str | None:
    """Why an LLM answer is refused, or None when it is acceptable."""
    markers = citation_markers(text)
    if not markers:
        return "cites no source"
    unknown = sorted({m for m in markers if not 1 <= m <= n_sources})
    if unknown:
        return f"cites sources it was not given: {unknown}"
    if is_injection(text):
        return "repeats instructions or asks for secrets"
    return None


def _renumber(text: str, chunks: list) -> tuple[str, list]:
    """Keep only cited sources, numbered in order of first citation."""
    order: list[int] = []
    for m in citation_markers(text):
        if m not in order:
            order.append(m)
    mapping = {old: new for new, old in enumerate(order, start=1)}
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping[int(m.group(1))]}]", text)
    return text, [chunks[old - 1] for old in order]


class LLMWriter(AnswerWriter):
    """Rewrites the grounded answer's sources with a chat model, checked, with fallback."""

    def __init__(self, model: Any, *, fallback: GroundedWriter | None = None) -> None:
        self.model = model
        self.fallback = fallback or GroundedWriter()

    def _messages(self, data: WriterInput, grounded: Draft) -> list[tuple[str, str]]:
        audience, hint = _AUDIENCE.get(data.profile.audience or "salarie", _AUDIENCE["salarie"])
        sources = []
        for n, chunk in enumerate(grounded.chunks, start=1):
            label = " (exemple)" if chunk.illustrative else ""
            sources.append(f"[{n}] {chunk.title}{label} — {chunk.text}")
        system = load_prompt("system").format(audience=audience, audience_hint=hint)
        user = load_prompt("user").format(
            question=data.question, sources="\n".join(sources), next_step=grounded.next_step
        )
        return [("system", system), ("human", user)]

    def write(self, data: WriterInput) -> Draft:
        grounded = self.fallback.write(data)
        if not grounded.chunks:
            return grounded
        try:
            reply = self.model.invoke(self._messages(data, grounded))
            text = str(reply.content).strip()
        except Exception as exc:  # noqa: BLE001 - any model failure falls back
            log.warning("LLM writer failed (%s); using the grounded answer", type(exc).__name__)
            return grounded
        return self._checked(text, grounded)

    def stream(self, data: WriterInput) -> Iterator[str | Draft]:
        """Yield text pieces as the model writes, then the final (checked) ``Draft``."""
        grounded = self.fallback.write(data)
        if not grounded.chunks:
            yield grounded
            return
        pieces: list[str] = []
        try:
            for part in self.model.stream(self._messages(data, grounded)):
                piece = str(part.content)
                pieces.append(piece)
                yield piece
        except Exception as exc:  # noqa: BLE001
            log.warning("LLM writer failed while streaming (%s); using the grounded answer", type(exc).__name__)
            yield grounded
            return
        yield self._checked("".join(pieces).strip(), grounded)

    def _checked(self, text: str, grounded: Draft) -> Draft:
        problem = check_llm_answer(text, len(grounded.chunks))
        if problem:
            log.warning("LLM answer refused (%s); using the grounded answer", problem)
            return grounded
        if grounded.next_step and grounded.next_step not in text:
            text = f"{text}\n\n{grounded.next_step}"
        text, chunks = _renumber(text, grounded.chunks)
        return Draft(text=text, chunks=chunks, next_step=grounded.next_step, told=grounded.told)


def make_writer(settings: Settings) -> AnswerWriter:
    """The grounded writer, or the LLM writer when ``ORIENTIA_LLM_URL`` and ``_MODEL`` are set."""
    if not (settings.llm_url and settings.llm_model):
        return GroundedWriter()
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        log.error("ORIENTIA_LLM_URL is set but langchain-openai is missing: pip install 'orientia[llm]'")
        return GroundedWriter()
    model = ChatOpenAI(
        base_url=settings.llm_url,
        model=settings.llm_model,
        api_key=SecretStr(settings.llm_api_key.get_secret_value() or "not-needed"),
        temperature=0,
        timeout=60,
        max_retries=1,
    )
    log.info("Answers written by %s at %s (checked, with grounded fallback)", settings.llm_model, settings.llm_url)
    return LLMWriter(model)
