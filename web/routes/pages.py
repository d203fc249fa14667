"""HTML pages (French). Each works as a plain form post or link; HTMX swaps only the fragment."""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, QueryParams

from assistant import Assistant, BadRequest, OrientiaError, Profile, TrainingFilters
from assistant.models import (
    DEPARTMENTS,
    FORMATS,
    FUNDING_LABELS,
    MAX_HOURS,
    MAX_PRICE,
    CertificationSummary,
    TrainingSummary,
    Turn,
)

from .. import filters as fmt
from ..deps import AssistantDep
from ..limits import run_answering

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)

_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Enough for the whole catalogue in one export or one certification page.
_ALL = 10_000
_PAGE_SIZE = 20


# -- Rendering ---------------------------------------------------------------------------------


def _is_htmx(request: Request) -> bool:
    # A history restore asks for the whole page even though htmx sends it.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(request: Request, name: str, context: dict, *, block: str | None = None, status_code: int = 200):
    """Render ``name``; only its ``block`` when HTMX asks (one template, page and fragment)."""
    templates = request.app.state.templates
    htmx = _is_htmx(request)
    context = {"htmx": htmx, **context}
    if block and htmx:
        response = templates.TemplateResponse(request, name, context, block_name=block, status_code=status_code)
    else:
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # The same URL answers a page or a fragment: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


def error_page(request: Request, message: str, status_code: int):
    return _render(
        request, "error.html", {"message": message, "status_code": status_code},
        block="message", status_code=status_code,
    )


# -- Chat ----------------------------------------------------------------------------------------

#: The cookie holding the conversation whose thread the chat page shows (HttpOnly, SameSite=Lax).
COOKIE = "orientia_conversation"


def _cookie_id(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if _CONVERSATION_ID.match(value) else ""


def _remember(response: Response, request: Request, conversation_id: str) -> None:
    """Keep the conversation id in the client's cookie for as long as the conversation lives."""
    ttl = request.app.state.settings.conversation_ttl_hours
    response.set_cookie(
        COOKIE, conversation_id, max_age=int(ttl * 3600), path="/", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )


@dataclass
class TurnView:
    """A stored turn as the thread shows it: only what changed since the turns before it."""

    turn: Turn
    #: id prefix of this turn's numbered sources, unique on the page
    anchor: str
    #: trainings first proposed in this turn, and those already proposed earlier
    fresh: list[TrainingSummary] = field(default_factory=list)
    seen: list[TrainingSummary] = field(default_factory=list)
    #: the criteria (profile chips) this turn added or changed
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _views(turns: list[Turn]) -> list[TurnView]:
    views, shown, before = [], set(), None
    for turn in turns:
        answer = turn.answer
        chips = fmt.chips(answer.profile)
        views.append(TurnView(
            turn=turn, anchor=f"t{turn.position}-source",
            fresh=[t for t in answer.trainings if t.id not in shown],
            seen=[t for t in answer.trainings if t.id in shown],
            changes=[c for c in chips if c not in before] if before is not None else [],
        ))
        shown |= {t.id for t in answer.trainings}
        before = chips
    return views


def _kept_ids(assistant: Assistant, conversation_id: str) -> set[str]:
    try:
        return {t.id for t in assistant.kept(conversation_id)} if conversation_id else set()
    except OrientiaError:  # not ready yet: nothing shown as kept
        return set()


def _thread_context(assistant: Assistant, conversation_id: str, turns: list[Turn], **values) -> dict:
    """Everything the chat page shows for a conversation's thread."""
    views = _views(turns)
    last = turns[-1] if turns else None
    return _chat_context(
        assistant,
        views=views, last=last, conversation_id=conversation_id if turns else "",
        profile=last.answer.profile if last else Profile(),
        kept=_kept_ids(assistant, conversation_id),
        has_trainings=any(t.answer.trainings for t in turns),
        **values,
    )


@router.get("/", response_class=HTMLResponse)
def chat(request: Request, assistant: AssistantDep):
    """The chat page: the whole thread of the conversation in the cookie, then the question box."""
    conversation_id = _cookie_id(request)
    turns = assistant.thread(conversation_id) if conversation_id else []
    return _render(request, "chat.html", _thread_context(assistant, conversation_id, turns))


def _question(form: FormData, offered: list[str]) -> str:
    """The question sent: the box's text, or the quick reply clicked (which wins over a draft).

    Quick replies are ``<button name="question">`` in the form of the ``<textarea name="question">``,
    so a click with text in the box sends both values.
    """
    values = [str(v) for v in form.getlist("question") if str(v).strip()]
    if len(values) > 1:
        chosen = [v for v in values if v in offered]
        return chosen[-1] if chosen else values[-1]
    return values[0] if values else ""


def _offered(turns: list[Turn]) -> list[str]:
    if not turns:
        return []
    answer = turns[-1].answer
    return [*answer.quick_replies, *(answer.clarify.choices if answer.clarify else [])]


@router.post("/", response_class=HTMLResponse)
async def chat_post(request: Request, assistant: AssistantDep):
    """Ask a question: HTMX gets the new turn; a plain form post is redirected to the thread."""
    form = await request.form()
    conversation_id = str(form.get("conversation_id") or "")
    if not _CONVERSATION_ID.match(conversation_id):
        conversation_id = ""
    earlier = await run_in_threadpool(assistant.thread, conversation_id) if conversation_id else []
    question = _question(form, _offered(earlier))
    if request.headers.get("X-Orientia-Stream") == "1" and _streams(assistant):
        return _stream_turn(request, assistant, form, question, conversation_id)
    answer, error, status_code = None, None, 200
    try:
        override = _profile_override(form, assistant)
        answer = await run_answering(
            request, assistant.answer, question, conversation_id=conversation_id or None, profile=override
        )
    except OrientiaError as exc:
        error, status_code = exc.message, exc.status_code
    if answer is not None and not _is_htmx(request):
        # Post/Redirect/Get: a reload shows the thread again instead of asking twice.
        turns = await run_in_threadpool(assistant.thread, answer.conversation_id)
        target = f"/#tour-{turns[-1].position}" if turns else "/"
        response = RedirectResponse(target, status_code=303)
        _remember(response, request, answer.conversation_id)
        return response
    context = await run_in_threadpool(_turn_context, request, assistant, form, question, conversation_id, answer, error)
    response = _render(request, "chat.html", context, block="turn", status_code=status_code)
    if answer is not None:
        _remember(response, request, answer.conversation_id)
    return response


def _streams(assistant: Assistant) -> bool:
    """Whether the answer writer produces text progressively (an LLM is configured)."""
    return callable(getattr(assistant.writer, "stream", None))


def _turn_context(request: Request, assistant: Assistant, form, question, conversation_id, answer, error) -> dict:
    """The new turn (HTMX) or, on an error without JavaScript, the whole thread and the error."""
    if answer is not None:
        turns = assistant.thread(answer.conversation_id)
        context = _thread_context(assistant, answer.conversation_id, turns)
        if turns:
            context["new"] = context["views"][-1]
        else:  # the thread could not be read back: show the answer itself
            turn = Turn(conversation_id=answer.conversation_id, position=0, created_at=datetime.now(UTC),
                        question=question.strip(), answer=answer)
            context.update(new=_views([turn])[0], last=turn, conversation_id=answer.conversation_id,
                           profile=answer.profile)
        return context
    # An error: the thread shown stays the cookie's; the form keeps the question and the profile.
    shown_id = _cookie_id(request)
    turns = assistant.thread(shown_id) if shown_id else []
    context = _thread_context(assistant, shown_id, turns)
    context.update(
        question=question.strip(), error=error, draft=question,
        profile=_shown_profile(form, assistant), conversation_id=conversation_id,
    )
    return context


def _stream_turn(request: Request, assistant: Assistant, form: FormData, question: str, conversation_id: str):
    """The answer as it is written, then the finished turn.

    NDJSON lines: ``{"text": ...}`` pieces (shown as plain text while the model writes), then
    ``{"html": ...}``, the rendered turn fragment, which replaces them. The finished turn is the
    checked answer: it may differ from the pieces when the model's answer was refused.
    """
    from jinja2_fragments import render_block

    from ..streaming import stream_ndjson

    templates = request.app.state.templates
    # The cookie is sent before the answer exists: a new conversation gets its (server-issued)
    # id here.
    if not conversation_id or not assistant.conversation_exists(conversation_id):
        conversation_id = assistant.start_conversation()

    def work(emit) -> None:
        answer, error = None, None
        try:
            override = _profile_override(form, assistant)
            answer = assistant.answer(
                question, conversation_id=conversation_id, profile=override,
                on_text=lambda text: emit({"text": text}),
            )
        except OrientiaError as exc:
            error = exc.message
        context = _turn_context(request, assistant, form, question, conversation_id, answer, error)
        context.update(request=request, htmx=True)
        emit({"html": render_block(templates.env, "chat.html", "turn", **context)})

    response = stream_ndjson(work, name="orientia-page-stream", limiter=request.app.state.answer_limiter)
    _remember(response, request, conversation_id)
    return response


def _chat_context(assistant: Assistant, **values) -> dict:
    context: dict[str, Any] = {
        "turn_id": uuid.uuid4().hex[:8], "question": "", "answer": None, "error": None, "draft": "",
        "profile": Profile(), "conversation_id": "", "streaming": _streams(assistant),
        "views": [], "new": None, "last": None, "kept": set(), "has_trainings": False,
    }
    context.update(values)
    try:
        context["roles"] = assistant.roles()
    except OrientiaError:  # not ready yet: the page still renders, the question will say so
        context["roles"] = []
    return context


@router.post("/nouvelle-conversation")
def new_conversation(request: Request, assistant: AssistantDep):
    """Forget the thread of the cookie's conversation and start afresh."""
    conversation_id = _cookie_id(request)
    if conversation_id:
        assistant.forget(conversation_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


# Parsers of form values, where "" means "not stated".


def _text(value: str) -> str | None:
    return value[:100] or None  # a job id: never longer, and echoed in errors


def _choice(allowed):
    def parse(value: str) -> str | None:
        if value and value not in allowed:
            raise BadRequest(f"Valeur inconnue : {value[:40]}")
        return value or None

    return parse


def _number(name: str, *, minimum: float, strict: bool, maximum: float):
    def parse(value: str) -> float | None:
        if not value:
            return None
        try:
            number = float(value[:40].replace(",", ".").replace(" ", "").replace("\u202f", ""))
        except ValueError:
            number = None
        # float() reads "inf" and "nan": neither is a duration or a budget.
        if number is None or not math.isfinite(number) or number < minimum or (strict and number == minimum):
            raise BadRequest(f"{name} : indiquez un nombre positif.")
        if number > maximum:
            raise BadRequest(f"{name} : indiquez au plus {maximum:,.0f}.".replace(",", "\u202f"))
        return number

    return parse


def _yes_no(value: str) -> bool | None:
    return {"oui": True, "non": False, "true": True, "false": False}.get(value.lower()) if value else None


#: The profile fields the chat form can correct, each with its parser.
_PROFILE_FIELDS = {
    "role": _text,
    "department": _choice(DEPARTMENTS),
    "format": _choice(FORMATS),
    "max_hours": _number("Durée maximale", minimum=0, strict=True, maximum=MAX_HOURS),
    "max_price": _number("Budget maximal", minimum=0, strict=False, maximum=MAX_PRICE),
    "certifying": _yes_no,
    "audience": _choice(fmt.AUDIENCES),
}


def _profile_override(form: FormData, assistant: Assistant) -> Profile | None:
    """What the user changed in the profile form, as a ``Profile`` with only those fields set.

    Each field the form shows comes with ``avant_<field>``, the value it showed: comparing the
    two sends only real corrections, so the new question can still state the rest.
    """
    changes: dict = {}
    for name, parse in _PROFILE_FIELDS.items():
        if f"avant_{name}" not in form:
            continue
        new = parse(str(form.get(f"p_{name}") or "").strip())
        if new != parse(str(form.get(f"avant_{name}") or "").strip()):
            changes[name] = new
    if "avant_funding" in form:
        new_funding = sorted({str(v) for v in form.getlist("p_funding")} & FUNDING_LABELS.keys())
        old_funding = sorted(v for v in str(form.get("avant_funding")).split(",") if v)
        if new_funding != old_funding:
            changes["funding"] = new_funding
    if "role" in changes:
        # A job comes with its label, ROME code and sector, as the extractor would set them.
        role = _role_or_none(assistant, changes["role"])
        if changes["role"] and role is None:
            raise BadRequest(f"Métier inconnu : {changes['role']}")
        changes.update(
            role=role.id if role else None, role_label=role.label if role else None,
            rome_code=role.rome_code if role else None, sector=role.sector if role else None,
        )
    if not changes:
        return None
    try:
        return Profile(**changes)
    except ValueError as exc:
        raise BadRequest("Profil invalide : vérifiez les valeurs corrigées.") from exc


def _role_or_none(assistant: Assistant, role_id: str | None):
    try:
        return assistant.role(role_id) if role_id else None
    except OrientiaError:
        return None


def _shown_profile(form: FormData, assistant: Assistant) -> Profile:
    """The profile the form showed (kept on screen when a question fails)."""
    values = {}
    for name, parse in _PROFILE_FIELDS.items():
        try:
            values[name] = parse(str(form.get(f"avant_{name}") or "").strip())
        except BadRequest:
            pass
    values["funding"] = [v for v in str(form.get("avant_funding") or "").split(",") if v in FUNDING_LABELS]
    role = _role_or_none(assistant, values.get("role"))
    values.update(role=role.id if role else None, role_label=role.label if role else None)
    try:
        return Profile(**values)
    except ValueError:
        return Profile()


# -- Sources -------------------------------------------------------------------------------------


@router.get("/sources/{source_id:path}", response_class=HTMLResponse)
def source_page(request: Request, source_id: Annotated[str, Path(max_length=300)], assistant: AssistantDep):
    """A cited passage in full (a panel under the citation with HTMX)."""
    source = assistant.source(source_id)
    level = 4 if _is_htmx(request) else 1
    return _render(request, "source.html", {"source": source, "level": level}, block="passage")


# -- Catalogue -----------------------------------------------------------------------------------


def _catalogue_query(query: QueryParams) -> tuple[TrainingFilters, dict, int, int]:
    """Read the catalogue's GET form, where an empty field means "any".

    Returns:
        The filters, the values as the form shows them, the page size and the offset.
    """
    def get(name: str) -> str:
        return (query.get(name) or "").strip()

    text = {
        "q": get("q")[:200], "role": get("role")[:100], "department": get("department"),
        "format": get("format"), "max_hours": get("max_hours"), "max_price": get("max_price"),
    }
    funding = [f for f in query.getlist("funding") if f in FUNDING_LABELS]
    certifying = _yes_no(get("certifying"))
    params: dict[str, str | list[str]] = {
        **text, "funding": funding, "certifying": {True: "oui", False: "non", None: ""}[certifying],
    }
    filters = TrainingFilters(
        q=text["q"],
        role=text["role"] or None,
        department=_choice(DEPARTMENTS)(text["department"]),
        format=_choice(FORMATS)(text["format"]),
        max_hours=_PROFILE_FIELDS["max_hours"](text["max_hours"]),
        max_price=_PROFILE_FIELDS["max_price"](text["max_price"]),
        funding=funding,
        certifying=certifying,
    )
    try:
        limit = min(max(int(query.get("limit") or _PAGE_SIZE), 1), 100)
        offset = max(int(query.get("offset") or 0), 0)
    except ValueError as exc:
        raise BadRequest("Pagination invalide.") from exc
    return filters, params, limit, offset


def _query_string(params: dict, limit: int) -> str:
    pairs = [(k, v) for k, v in params.items() if v and k != "funding"]
    pairs += [("funding", f) for f in params["funding"]]
    if limit != _PAGE_SIZE:
        pairs.append(("limit", limit))
    return urlencode(pairs)


@router.get("/formations", response_class=HTMLResponse)
async def catalogue(request: Request, assistant: AssistantDep):
    """The training catalogue, filtered by a GET form (the list only for HTMX)."""
    filters, params, limit, offset = _catalogue_query(request.query_params)
    total, items = await run_answering(request, assistant.trainings, filters, limit=limit, offset=offset)
    context = {
        "params": params, "query": _query_string(params, limit), "total": total, "items": items,
        "limit": limit, "offset": offset, "roles": assistant.roles(),
    }
    return _render(request, "catalogue.html", context, block="results")


_CSV_HEADER = [
    "Identifiant", "Intitulé", "Organisme", "Ville", "Département", "Modalité", "Durée (heures)",
    "Prix (€ TTC)", "Financements", "Certification", "Blocs de compétences", "Prochaine session",
    "Exemple illustratif", "Lien",
]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _decimal(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _csv_response(items: list[TrainingSummary], filename: str) -> Response:
    """Trainings as CSV for Excel (UTF-8 with BOM, ``;``): the catalogue's and the summary's export."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_CSV_HEADER)
    for t in items:
        writer.writerow([_cell(v) for v in (
            t.id, t.title, t.provider,
            t.city or ("" if t.department and t.format != "distanciel" else "à distance"),
            fmt.department(t.department) if t.department else "", t.format,
            _decimal(t.duration_hours), _decimal(t.price_eur),
            ", ".join(fmt.funding(f) for f in t.funding), t.certification_code or "",
            ", ".join(t.blocs), fmt.french_date(t.next_session), "oui" if t.illustrative else "non",
            t.url or "",
        )])
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/formations.csv")
async def catalogue_csv(request: Request, assistant: AssistantDep):
    """The current selection of the catalogue as CSV for Excel (UTF-8 with BOM, ``;``)."""
    filters, _, _, _ = _catalogue_query(request.query_params)
    _, items = await run_answering(request, assistant.trainings, filters, limit=_ALL, offset=0)
    return _csv_response(items, "formations-orientia.csv")


@router.get("/formations/{training_id}", response_class=HTMLResponse)
def training_page(request: Request, training_id: Annotated[str, Path(max_length=100)], assistant: AssistantDep):
    """One training offer."""
    training = assistant.training(training_id)
    certification = None
    if training.certification_code:
        try:
            certification = assistant.certification(training.certification_code)
        except OrientiaError:
            certification = None
    roles = [r for r in assistant.roles() if r.rome_code in training.rome_codes]
    return _render(request, "training.html", {"training": training, "certification": certification, "roles": roles})


# -- Compare and keep ----------------------------------------------------------------------------

#: Side by side, more columns than this would not read on any screen.
MAX_COMPARED = 4


def _compared_ids(query: QueryParams) -> list[str]:
    ids = [*query.getlist("compare"), *",".join(query.getlist("ids")).split(",")]
    return list(dict.fromkeys(i.strip() for i in ids if i.strip()))


@router.get("/comparer", response_class=HTMLResponse)
def compare_page(request: Request, assistant: AssistantDep):
    """The ticked trainings side by side (``?compare=F001&compare=F002`` or ``?ids=F001,F002``)."""
    ids = _compared_ids(request.query_params)
    context: dict[str, Any] = {
        "trainings": [], "certifications": {}, "message": None, "kept": set(), "has_conversation": False,
    }
    status_code = 200
    if len(ids) < 2:
        context["message"] = "Cochez au moins deux formations dans la conversation pour les comparer."
        status_code = 422
    elif len(ids) > MAX_COMPARED:
        context["message"] = f"Comparez au plus {MAX_COMPARED} formations à la fois : décochez-en quelques-unes."
        status_code = 422
    else:
        context["trainings"] = [assistant.training(i) for i in ids]
        for t in context["trainings"]:
            if t.certification_code and t.certification_code not in context["certifications"]:
                try:
                    context["certifications"][t.certification_code] = assistant.certification(t.certification_code)
                except OrientiaError:
                    pass
    conversation_id = _cookie_id(request)
    context["has_conversation"] = bool(conversation_id and assistant.thread(conversation_id))
    context["kept"] = _kept_ids(assistant, conversation_id)
    return _render(request, "compare.html", context, status_code=status_code)


@router.post("/selection")
async def keep_trainings(request: Request, assistant: AssistantDep):
    """Keep the ticked trainings for the summary (``ajouter=1``: add them to those kept)."""
    form = await request.form()
    conversation_id = _cookie_id(request)
    ids = [str(v) for v in form.getlist("compare")]
    if form.get("ajouter") and conversation_id:
        ids = [t.id for t in await run_in_threadpool(assistant.kept, conversation_id)] + ids
    await run_in_threadpool(assistant.keep, conversation_id, ids)
    return RedirectResponse("/recapitulatif", status_code=303)


def _summary(assistant: Assistant, conversation_id: str) -> dict:
    turns = assistant.thread(conversation_id) if conversation_id else []
    kept = assistant.kept(conversation_id) if turns else []
    certifications = []
    for code in dict.fromkeys(t.certification_code for t in kept if t.certification_code):
        try:
            certifications.append(assistant.certification(code))
        except OrientiaError:
            pass
    # The certifications the answers proposed, beyond those the kept trainings prepare.
    listed = {c.code for c in certifications}
    proposed: dict[str, CertificationSummary] = {}
    for turn in turns:
        for c in turn.answer.certifications:
            if c.code not in listed:
                proposed.setdefault(c.code, c)
    return {
        "turns": turns, "trainings": kept, "certifications": certifications,
        "proposed": list(proposed.values()),
        "profile": turns[-1].answer.profile if turns else Profile(),
        "steps": assistant.next_steps(), "today": datetime.now(UTC).date(),
    }


@router.get("/recapitulatif", response_class=HTMLResponse)
async def summary_page(request: Request, assistant: AssistantDep):
    """A printable summary of the conversation in the cookie: profile, kept trainings, next steps."""
    context = await run_in_threadpool(_summary, assistant, _cookie_id(request))
    return _render(request, "summary.html", context)


@router.get("/recapitulatif.csv")
async def summary_csv(request: Request, assistant: AssistantDep):
    """The kept trainings as CSV, in the catalogue export's format."""
    kept = await run_in_threadpool(assistant.kept, _cookie_id(request))
    return _csv_response([TrainingSummary.from_training(t) for t in kept], "recapitulatif-orientia.csv")


# -- Certifications and jobs ---------------------------------------------------------------------


@router.get("/certifications", response_class=HTMLResponse)
def certifications_page(request: Request, assistant: AssistantDep):
    """Every certification."""
    return _render(request, "certifications.html", {"certifications": assistant.certifications()})


@router.get("/certifications/{code}", response_class=HTMLResponse)
async def certification_page(request: Request, code: Annotated[str, Path(max_length=20)], assistant: AssistantDep):
    """One certification with its blocs, the jobs it targets and the trainings that prepare it."""
    certification = assistant.certification(code)
    _, certifying = await run_in_threadpool(
        assistant.trainings, TrainingFilters(certifying=True), limit=_ALL, offset=0
    )
    context = {
        "certification": certification,
        "roles": [r for r in assistant.roles() if r.rome_code in certification.rome_codes],
        "trainings": [t for t in certifying if t.certification_code == certification.code],
    }
    return _render(request, "certification.html", context)


@router.get("/metiers", response_class=HTMLResponse)
def roles_page(
    request: Request,
    assistant: AssistantDep,
    q: Annotated[str, Query(max_length=200)] = "",
    domaine: Annotated[str, Query(max_length=3)] = "",
):
    """Every ROME job sheet: the domains, or the sheets of one domain or of a search."""
    from assistant.text import plain

    roles = assistant.roles()
    query = plain(q).strip()
    if query:
        words = query.split()
        shown = [r for r in roles if all(w in plain(" ".join(r.names)) for w in words)]
    elif domaine:
        shown = [r for r in roles if r.domain_code == domaine.upper()]
    else:
        shown = []
    domains: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    for r in roles:
        group = domains.setdefault((r.grand_domain_code, r.grand_domain_label), {})
        key = (r.domain_code, r.domain_label)
        group[key] = group.get(key, 0) + 1
    context = {
        "roles": shown, "total": len(roles), "q": q, "domaine": domaine.upper(),
        "domains": sorted((g, sorted(d.items())) for g, d in domains.items()),
    }
    return _render(request, "roles.html", context, block="results")


@router.get("/metiers/{role_id}", response_class=HTMLResponse)
async def role_page(request: Request, role_id: Annotated[str, Path(max_length=100)], assistant: AssistantDep):
    """One ROME job sheet: definition, skills, close jobs, AI exposure, blocs, trainings."""
    from assistant.skillmatch import blocs_for_role

    role = assistant.role(role_id.strip().upper())
    total, trainings = await run_in_threadpool(
        assistant.trainings, TrainingFilters(role=role.id), limit=12, offset=0
    )
    matches = await run_in_threadpool(blocs_for_role, role, assistant.certifications())
    sheets = {r.id: r for r in assistant.roles()}
    family = None
    if role.sector:
        try:
            family = assistant.source(f"study:{role.sector}:1")
        except OrientiaError:
            family = None
    context = {
        "role": role, "matches": matches, "trainings": trainings, "total": total,
        "close": [sheets[c] for c in role.mobility if c in sheets], "family": family,
    }
    return _render(request, "role.html", context)


# -- About ---------------------------------------------------------------------------------------


@router.get("/a-propos", response_class=HTMLResponse)
async def about_page(request: Request, assistant: AssistantDep):
    """What Orientia is, the 2019 regional programme, and where the data comes from."""
    _, trainings = await run_in_threadpool(assistant.trainings, TrainingFilters(), limit=_ALL, offset=0)
    certifications = assistant.certifications()
    counts = {
        "trainings": len(trainings),
        "illustrative_trainings": sum(t.illustrative for t in trainings),
        "certifications": len(certifications),
        "illustrative_certifications": sum(c.illustrative for c in certifications),
        "roles": len(assistant.roles()),
        "places": len(assistant.knowledge().places),
    }
    return _render(request, "about.html", {"counts": counts})
