"""Jinja filters: French number and date formats, Markdown rendered then sanitised."""

from __future__ import annotations

import re
from datetime import date

from markupsafe import Markup

from assistant.models import DEPARTMENTS, FUNDING_LABELS

__all__ = ["register", "render_answer"]

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


def department(code: str | None) -> str:
    return f"{DEPARTMENTS[code]} ({code})" if code in DEPARTMENTS else "à distance"


def funding(code: str) -> str:
    return FUNDING_LABELS.get(code, code)


def typography(text: str) -> str:
    """Non-breaking spaces before ? ! : ; and inside « »."""
    text = re.sub(r"\s+([?!:;»])", NNBSP + r"\1", text)
    text = re.sub(r"«\s+", "«" + NNBSP, text)
    return text


def render_answer(text: str) -> Markup:
    """The answer's Markdown as safe HTML: citations become links to their passage."""
    import nh3
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(typography(text))
    html = re.sub(
        r"\[(\d+)\]",
        lambda m: f'<a class="cite" href="#source-{m.group(1)}" aria-label="source {m.group(1)}">[{m.group(1)}]</a>',
        html,
    )
    clean = nh3.clean(
        html,
        tags={"p", "ul", "ol", "li", "strong", "em", "h2", "h3", "a", "br", "code"},
        attributes={"a": {"href", "class", "aria-label"}},
        url_schemes={"https", "http"},
        link_rel=None,
    )
    return Markup(clean)


def register(env) -> None:
    env.filters.update(
        hours=hours, euros=euros, french_date=french_date, department=department,
        funding=funding, typography=typography, render_answer=render_answer,
    )
