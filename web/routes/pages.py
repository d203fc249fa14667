"""HTML pages (French). Each works as a plain form post; HTMX swaps only the fragment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from assistant import OrientiaError

from ..deps import AssistantDep

__all__ = ["router", "error_page"]

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, context: dict, *, block: str | None = None, status_code: int = 200):
    templates = request.app.state.templates
    if block and request.headers.get("HX-Request") == "true":
        return templates.TemplateResponse(request, name, context, block_name=block, status_code=status_code)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, message: str, status_code: int):
    return _render(request, "error.html", {"message": message, "status_code": status_code}, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def chat(request: Request):
    """The chat page."""
    return _render(request, "chat.html", {"question": "", "answer": None, "error": None})


@router.post("/", response_class=HTMLResponse)
async def chat_post(
    request: Request,
    assistant: AssistantDep,
    question: Annotated[str, Form()] = "",
    conversation_id: Annotated[str, Form()] = "",
):
    """Ask a question from the page (full page, or the answer fragment for HTMX)."""
    answer, error = None, None
    try:
        answer = await run_in_threadpool(
            assistant.answer, question, conversation_id=conversation_id or None
        )
    except OrientiaError as exc:
        error = exc.message
    context = {"question": question, "answer": answer, "error": error}
    return _render(request, "chat.html", context, block="answer", status_code=200 if error is None else 422)
