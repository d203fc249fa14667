"""Structure-aware chunks: Markdown split on its headings (titles kept), records one chunk each.

Markdown is split with ``langchain-text-splitters`` (``MarkdownHeaderTextSplitter`` for the
structure, ``RecursiveCharacterTextSplitter`` for overlong sections). Record chunks are enriched
with what a searcher would type: a training chunk names its provider, city, département, mode,
hours, funding, certification, blocs and target jobs; a certification chunk lists its blocs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from assistant.constraints import Constraints
from assistant.index import chunk_hash
from assistant.models import (
    DEPARTMENTS,
    FUNDING_LABELS,
    Certification,
    Chunk,
    Document,
    Role,
    StudySection,
    Training,
)

from .loaders import LoadedRecord

__all__ = ["chunk_records", "MAX_CHARS"]

#: e5 embeds ~512 tokens at most and is slow on long inputs: keep passages short.
MAX_CHARS = 900


#: How what Orientia's team wrote is cited (kind ``orientia`` in citations).
ORIENTIA = "Orientia"


def _source_label(record, *, orientia: bool = False) -> str:
    if record.illustrative:
        return "Exemple Orientia (illustratif)"
    if orientia:
        return ORIENTIA
    return " ; ".join(record.sources)


def _hours(value: float) -> str:
    return f"{value:g} h"


def _price(value: float) -> str:
    return "gratuit" if value == 0 else f"{value:,.0f} €".replace(",", "\u202f")


def chunk_records(loaded: Iterable[LoadedRecord], *, model_name: str) -> list[Chunk]:
    """Turn validated records into indexable chunks (places are not indexed)."""
    loaded = list(loaded)
    certs = {r.record.code: r.record for r in loaded if isinstance(r.record, Certification)}
    roles_by_rome: dict[str, list[str]] = defaultdict(list)  # ROME code -> sheet label
    study_titles = {r.record.id: r.record.title for r in loaded if isinstance(r.record, StudySection)}
    for r in loaded:
        if isinstance(r.record, Role):
            roles_by_rome[r.record.rome_code].append(r.record.label)
    out: list[Chunk] = []
    for item in loaded:
        rec = item.record
        if isinstance(rec, (StudySection, Document)):
            out.extend(_markdown_chunks(item.kind, rec))
        elif isinstance(rec, Certification):
            out.extend(_certification_chunks(rec))
        elif isinstance(rec, Training):
            out.append(_training_chunk(rec, certs, roles_by_rome))
        elif isinstance(rec, Role):
            out.extend(_role_chunk(rec, study_titles))
    for chunk in out:
        chunk.hash = chunk_hash(model_name, str(chunk.metadata["embed_text"]))
    return out


def _markdown_chunks(kind: str, rec: StudySection | Document) -> list[Chunk]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    by_heading = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=True
    ).split_text(rec.body)
    # A long section is cut between paragraphs, then between sentences: a passage never starts
    # in the middle of a sentence (hard-wrapped lines are joined first), and the overlap is made
    # of whole sentences.
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=MAX_CHARS, chunk_overlap=120, separators=["\n\n", ". ", "? ", "! ", "; ", " ", ""],
        keep_separator="end",
    )
    chunks: list[Chunk] = []
    for part in by_heading:
        section = part.metadata.get("h3") or part.metadata.get("h2") or ""
        content = part.page_content if len(part.page_content) <= MAX_CHARS else _unwrapped(part.page_content)
        for piece in splitter.split_text(content):
            piece = piece.strip()
            if not piece:
                continue
            heading = f"{rec.title} — {section}" if section else rec.title
            team = rec.provenance == "orientia" or section in rec.orientia_sections
            meta: dict[str, str | int | float | bool] = {
                "embed_text": f"{heading}\n{piece}",
                "search_text": f"{heading}\n{piece}\n{' '.join(rec.rome_codes)}",
                "record_type": rec.type,
                "provenance": "orientia" if team else "sources",
            }
            if isinstance(rec, StudySection) and rec.sector:
                meta["sector"] = rec.sector
            if rec.audience:
                meta["audience"] = ",".join(rec.audience)
            chunks.append(
                Chunk(
                    id=f"{kind}:{rec.id}:{len(chunks) + 1}",
                    record_key=f"{kind}:{rec.id}",
                    kind=kind,  # type: ignore[arg-type]
                    title=rec.title,
                    section=section,
                    text=piece,
                    source=_source_label(rec, orientia=team),
                    illustrative=rec.illustrative,
                    metadata=meta,
                    url=None if team or not rec.urls else rec.urls[0],
                )
            )
    return chunks


def _certification_chunks(cert: Certification) -> list[Chunk]:
    name = f"{cert.code} — {cert.title}" if cert.title else f"Certification {cert.code}"
    facts = [f"Certification {cert.code} : {cert.title}." if cert.title else f"Certification {cert.code}."]
    if cert.level:
        facts.append(f"Niveau {cert.level}.")
    if cert.certifier:
        facts.append(f"Certificateur : {cert.certifier}.")
    if cert.validity_end:
        facts.append(f"Enregistrée jusqu'au {cert.validity_end:%d/%m/%Y}.")
    if cert.status:
        facts.append("Fiche active." if cert.status == "active" else "Fiche échue (plus enregistrée).")
    if cert.replaced_by:
        facts.append("Remplacée par : " + ", ".join(cert.replaced_by) + ".")
    if cert.summary:
        facts.append(cert.summary)
    if cert.blocs:
        facts.append("Blocs de compétences : " + " ; ".join(f"{b.code} {b.title}" for b in cert.blocs) + ".")
    overview = " ".join(facts)
    base: dict[str, str | int | float | bool] = {"certification_code": cert.code, "certifying": True}
    chunks = [
        Chunk(
            id=f"certification:{cert.code}:0",
            record_key=f"certification:{cert.code}",
            kind="certification",
            title=name,
            section="Présentation",
            text=overview,
            source=_source_label(cert),
            illustrative=cert.illustrative,
            url=None if cert.illustrative else cert.fiche_url,
            metadata={**base, "embed_text": overview[:700], "search_text": overview + " " + " ".join(cert.rome_codes)},
        )
    ]
    for n, bloc in enumerate(cert.blocs, start=1):
        text = f"Bloc {bloc.code} « {bloc.title} » de la certification {cert.code}" + (f" ({cert.title})." if cert.title else ".")
        if bloc.skills:
            text += " Compétences : " + " ; ".join(bloc.skills) + "."
        if bloc.evaluation:
            text += f" Évaluation : {bloc.evaluation}"
        chunks.append(
            Chunk(
                id=f"certification:{cert.code}:{n}",
                record_key=f"certification:{cert.code}",
                kind="certification",
                title=name,
                section=f"{bloc.code} {bloc.title}",
                text=text,
                source=_source_label(cert),
                illustrative=cert.illustrative,
                url=None if cert.illustrative else cert.fiche_url,
                # Bloc titles are matched lexically; the certification's overview is embedded.
                metadata={**base, "bloc": bloc.code, "embed_text": text, "search_text": text, "lexical_only": True},
            )
        )
    return chunks


def _training_chunk(t: Training, certs: dict[str, Certification], roles_by_rome) -> Chunk:
    if t.city and t.department:
        place = f"à {t.city} ({DEPARTMENTS[t.department]}, {t.department})"
    elif t.department and t.format == "distanciel":
        place = f"à distance, par un organisme du département {DEPARTMENTS[t.department]} ({t.department})"
    elif t.department:
        # Imported catalogues (Mon Compte Formation) give the département but not the commune.
        place = f"dans le département {DEPARTMENTS[t.department]} ({t.department}), commune non précisée"
    else:
        place = "en ligne, accessible partout"
    parts = [
        f"Formation « {t.title} » proposée par {t.provider}, {place}.",
        f"Modalité : {t.format}. Durée : {_hours(t.duration_hours)}. Prix : {_price(t.price_eur)}.",
    ]
    if t.funding:
        parts.append("Financements possibles : " + ", ".join(FUNDING_LABELS[f] for f in t.funding) + ".")
    if t.certification_code:
        cert = certs.get(t.certification_code)
        label = f"{t.certification_code} {cert.title}" if cert and cert.title else t.certification_code
        parts.append(f"Certifiante : prépare la certification {label}.")
        if cert and t.blocs:
            titles = {b.code: b.title for b in cert.blocs}
            parts.append("Blocs préparés : " + " ; ".join(f"{c} {titles.get(c, '')}".strip() for c in t.blocs) + ".")
    else:
        parts.append("Non certifiante.")
    if t.objectives:
        parts.append(f"Objectifs : {t.objectives}")
    if t.content:
        parts.append(f"Contenu : {t.content}")
    if t.skills:
        parts.append("Compétences : " + " ; ".join(t.skills) + ".")
    jobs = sorted({label for code in t.rome_codes for label in roles_by_rome.get(code, [])})
    if jobs:
        parts.append("Pour les métiers : " + ", ".join(jobs) + ".")
    text = " ".join(parts)
    # The embedded text is the training's meaning (e5 is slow on long inputs); the lexical
    # index and the citation keep the full text with the practical details.
    semantic = [f"Formation « {t.title} ».", t.objectives, " ; ".join(t.skills)]
    if jobs:
        semantic.append("Pour les métiers : " + ", ".join(jobs) + ".")
    meta: dict = {
        "embed_text": " ".join(s for s in semantic if s),
        "search_text": text + " " + " ".join(t.rome_codes),
        "certification_code": t.certification_code or "",
        # The fields the constraints' Chroma filter reads, written by the constraints model.
        **Constraints.metadata(t),
    }
    return Chunk(
        id=f"training:{t.id}:1",
        record_key=f"training:{t.id}",
        kind="training",
        title=t.title,
        section=t.provider,
        text=text,
        source=_source_label(t),
        illustrative=t.illustrative,
        metadata=meta,
        url=None if t.illustrative else t.url,
    )


def _role_chunk(role: Role, study_titles: dict[str, str]) -> list[Chunk]:
    """One chunk per ROME sheet, plus the team's note if any.

    The sheet's chunk is lexical only (BM25 over its label, definition, every official title and
    everyday name): embedding 1,584 sheets costs far too much on two shared cores, and a job is
    found in a question by its names, then read by its code. The team's notes (~70) are embedded.
    """
    definition = role.definition.split(". ")[0].rstrip(".") + "." if role.definition else ""
    titles = [a for a in role.aliases if a != role.label][:4]
    embed = f"Métier : {role.label} (ROME {role.rome_code}). {definition}"
    if titles:
        embed += " Aussi : " + " ; ".join(titles) + "."
    digital, core = role.key_skills()
    text = f"Métier : {role.label} (fiche ROME {role.rome_code}, {role.domain_label}). {role.definition}".strip()
    if digital:
        text += " Compétences liées à la transition numérique : " + " ; ".join(digital) + "."
    if core:
        text += " Compétences principales : " + " ; ".join(core) + "."
    base = {"rome_code": role.rome_code, "domain": role.domain_code}
    if role.sector:
        base["sector"] = role.sector
    chunks = [Chunk(
        id=f"role:{role.id}:1",
        record_key=f"role:{role.id}",
        kind="role",
        title=role.label,
        section=f"ROME {role.rome_code}",
        text=text,
        source=_source_label(role),
        illustrative=role.illustrative,
        url=role.url,
        metadata={
            **base, "provenance": "sources", "embed_text": embed, "lexical_only": True,
            # Names only (not the whole definition): 1,584 sheets stay cheap to index at load.
            "search_text": " ".join([role.label, role.rome_code, role.domain_label, *role.aliases, *role.everyday_names]),
        },
    )]
    team = bool(role.exposure_summary or role.skills_to_build)
    if team or role.ai_exposure:
        family = study_titles.get(role.sector or "", "")
        note = f"Repère Orientia pour le métier {role.label} (ROME {role.rome_code})"
        note += f", famille « {family} »." if family else "."
        if role.ai_exposure:
            note += f" Exposition estimée à l'IA : {role.ai_exposure}."
        if role.exposure_summary:
            note += f" {role.exposure_summary}"
        if role.skills_to_build:
            note += " Compétences IA à développer : " + " ; ".join(role.skills_to_build) + "."
        if not team:
            note += f" {role.exposure_rule}"
        chunks.append(Chunk(
            id=f"role:{role.id}:2",
            record_key=f"role:{role.id}",
            kind="role",
            title=role.label,
            section="Repère Orientia",
            text=note,
            source=ORIENTIA,
            metadata={
                # The estimate alone (no team note) is cited, not embedded.
                **base, "provenance": "orientia", "embed_text": note, "lexical_only": not team,
                # Without a team note the chunk is only there to be cited: a few words suffice.
                "search_text": " ".join([note, *role.everyday_names]) if team else f"{role.label} {role.rome_code} exposition IA",
            },
        ))
    return chunks


def _unwrapped(text: str) -> str:
    """Paragraphs with their hard-wrapped lines joined (list items and blank lines kept)."""
    return re.sub(r"(?<=\S)\n(?![\n\s]*([-*+]|\d+[.)])\s)(?=\S)", " ", text)
