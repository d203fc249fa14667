"""The feedback form under each answer (page route; the JSON one is ``POST /api/feedback``)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from assistant import BadRequest

from ..deps import AssistantDep
from .pages import _render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@router.post("/avis", response_class=HTMLResponse)
async def feedback_post(request: Request, assistant: AssistantDep):
    """Record an opinion on an answer: a thank-you page, or the receipt in place with HTMX."""
    form = await request.form()
    conversation_id = str(form.get("conversation_id") or "")
    anchor = str(form.get("anchor") or "avis")
    if not _ID.match(conversation_id):
        raise BadRequest("Conversation inconnue : l'avis ne peut pas être enregistré.")
    if not _ID.match(anchor):
        anchor = "avis"
    useful = {"oui": True, "non": False}.get(str(form.get("useful") or "").lower())
    if useful is None:
        raise BadRequest("Indiquez si la réponse vous a été utile (oui ou non).")
    turn_text = str(form.get("turn") or "").strip()
    if turn_text and not turn_text.isdigit():
        raise BadRequest("Réponse inconnue dans cette conversation.")
    created = await run_in_threadpool(
        assistant.feedback, conversation_id=conversation_id, useful=useful,
        reason=str(form.get("reason") or "") or None, comment=str(form.get("comment") or "")[:2000],
        turn=int(turn_text) if turn_text else None,
    )
    context = {
        "answer": {"conversation_id": conversation_id}, "anchor": anchor,
        "feedback_done": "enregistré" if created else "remplacé",
    }
    return _render(request, "avis.html", context, block="feedback", status_code=201 if created else 200)
