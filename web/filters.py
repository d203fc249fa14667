"""Jinja filters: French number and date formats, Markdown rendered then sanitised."""

from __future__ import annotations

import re
from datetime import date

from markupsafe import Markup

from assistant.models import DEPARTMENTS, FORMATS, FUNDING_LABELS

__all__ = ["register", "render_answer", "render_passage"]

NBSP = "\u00a0"
NNBSP = "\u202f"


def hours(value: float) -> str:
    return f"{value:g}{NBSP}h"


def euros(value: float) -> str:
    if value == 0:
        return "gratuit"
    return f"{value:,.0f}".replace(",", NNBSP) + f"{NBSP}€"


def french_date(value: date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def french_datetime(value) -> str:
    """A stored UTC time as the admin pages show it (UTC, to the minute)."""
    if not value:
        return ""
    return value.strftime("%d/%m/%Y %H:%M") + " UTC"


def department(code: str | None) -> str:
    return f"{DEPARTMENTS[code]} ({code})" if code in DEPARTMENTS else "à distance"


def funding(code: str) -> str:
    return FUNDING_LABELS.get(code, code)


def typography(text: str | None) -> str:
    """Non-breaking spaces before ? ! : ; and inside « » (nothing for a missing text)."""
    if not text:
        return ""
    text = re.sub(r"\s+([?!:;»])", NNBSP + r"\1", text)
    text = re.sub(r"«\s+", "«" + NNBSP, text)
    return text


_ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "h2", "h3", "h4", "h5", "a", "br", "code"}


def _markdown(text: str, *, shift: int) -> str:
    """CommonMark to HTML (raw HTML stays escaped text), headings moved ``shift`` levels down."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False, "breaks": True}).render(typography(text))
    if shift:
        html = re.sub(
            r"<(/?)h([1-6])>", lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + shift, 5)}>", html
        )
    return html


def _sanitise(html: str) -> Markup:
    import nh3

    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "class", "aria-label"}},
        url_schemes={"https", "http"},
        link_rel=None,
    )
    return Markup(clean)


def render_answer(text: str, anchor: str = "source", shift: int = 0) -> Markup:
    """The answer's Markdown as safe HTML: citations ``[n]`` become links to ``#{anchor}-n``.

    Args:
        text: the answer in Markdown.
        anchor: the id prefix of the numbered sources (one per turn, so ids stay unique).
        shift: how many levels to move headings down (``##`` becomes ``<h3>`` with 1).
    """
    html = _markdown(text, shift=shift)
    html = re.sub(
        r"\[(\d+)\]",
        lambda m: f'<a class="cite" href="#{anchor}-{m.group(1)}" aria-label="source {m.group(1)}">[{m.group(1)}]</a>',
        html,
    )
    return _sanitise(html)


def render_passage(text: str, shift: int = 1) -> Markup:
    """A cited passage's Markdown as safe HTML (no citation links)."""
    return _sanitise(_markdown(text, shift=shift))


#: Below this length, the text before the first heading is too thin to stand alone as the answer.
_SHORT_LEAD = 160


def answer_parts(text: str, absorb: bool = True) -> dict:
    """An answer's Markdown cut for a chat turn: the direct answer, then its sections.

    Args:
        text: the answer in Markdown.
        absorb: when the text before the first heading is only an introduction, make the first
            section written as prose (not a list) part of the direct answer. Off when the turn's
            training cards are the direct answer.

    Returns:
        ``{"lead": markdown, "sections": [(heading, markdown), ...]}``: the lead is shown, the
        sections collapsed with their heading as the summary.
    """
    parts = re.split(r"^#{1,3}\s+(.+?)\s*$", text.strip(), flags=re.MULTILINE)
    lead = parts[0].strip()
    sections = [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    sections = [(title, body) for title, body in sections if body]
    prose = next((i for i, (_, body) in enumerate(sections) if not body.lstrip().startswith(("- ", "* ", "1. "))), None)
    if absorb and prose is not None and len(lead) < _SHORT_LEAD:
        title, body = sections.pop(prose)
        lead = f"{lead}\n\n## {title}\n\n{body}".strip()
    return {"lead": lead, "sections": sections}


def input_number(value: float | None) -> str:
    """A number as an ``<input type="number">`` value (``1050``, ``3.5``), "" for none."""
    return "" if value is None else f"{value:g}"


def chips(profile) -> list[tuple[str, str, str]]:
    """What a profile states, as ``(field, French name, French value)`` for display."""
    items = []
    if profile.role_label:
        items.append(("role", "Métier", profile.role_label))
    if profile.department:
        items.append(("department", "Département", department(profile.department)))
    if profile.format:
        items.append(("format", "Mode", profile.format))
    if profile.max_hours:
        items.append(("max_hours", "Durée max", hours(profile.max_hours)))
    if profile.max_price is not None:
        items.append(("max_price", "Budget max", euros(profile.max_price)))
    if profile.funding:
        items.append(("funding", "Financement", ", ".join(funding(f) for f in profile.funding)))
    if profile.certifying is not None:
        items.append(("certifying", "Certifiante", "oui" if profile.certifying else "non"))
    if profile.company_size:
        size = profile.company_size
        items.append(("company_size", "Entreprise", f"{size} salarié{'s' if size > 1 else ''}"))
    return items


#: Who asks (``Profile.audience``), as the chat page offers it.
AUDIENCES: dict[str, str] = {
    "salarie": "Salarié·e",
    "rh": "RH ou responsable formation",
    "eleve": "Élève ou étudiant·e",
    "entreprise": "Entreprise ou manager",
}
#: What each kind of cited passage is, for a reader.
KINDS: dict[str, str] = {
    "study": "Étude régionale",
    "certification": "Certification",
    "training": "Formation",
    "role": "Métier",
    "document": "Guide pratique",
    "orientia": "Orientia",
}


def register(env) -> None:
    """Add Orientia's filters and the French labels that templates use to ``env``."""
    env.globals.update(
        DEPARTMENTS=DEPARTMENTS, FORMATS=FORMATS, FUNDING_LABELS=FUNDING_LABELS,
        AUDIENCES=AUDIENCES, KINDS=KINDS,
    )
    env.filters.update(
        hours=hours, euros=euros, french_date=french_date, french_datetime=french_datetime, department=department,
        funding=funding, typography=typography, render_answer=render_answer,
        render_passage=render_passage, input_number=input_number, chips=chips,
        answer_parts=answer_parts,
    )
