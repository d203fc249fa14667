"""The JSON API (OpenAPI at /docs)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from assistant import (
    Answer,
    Certification,
    Profile,
    Role,
    SourcePassage,
    Training,
    TrainingFilters,
    TrainingSummary,
)
from assistant.models import MAX_HOURS, MAX_PRICE, Funding
from assistant.observatory import FEEDBACK_REASONS

from ..deps import AssistantDep, BootstrapDep
from ..limits import run_answering

__all__ = ["router", "AskRequest", "TrainingPage"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["api"])


class AskRequest(BaseModel):
    """A question, optionally in a conversation, optionally with a profile that overrides."""

    question: str = Field(min_length=1, max_length=1000)
    conversation_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    profile: Profile | None = None


class TrainingPage(BaseModel):
    total: int
    items: list[TrainingSummary]


class CertificationList(BaseModel):
    total: int
    items: list[Certification]


class RoleSummary(BaseModel):
    """A ROME job sheet as listed: names, domain, study family and exposure (details at /api/roles/{code})."""

    id: str
    label: str
    rome_code: str
    aliases: list[str]
    everyday_names: list[str]
    domain_code: str
    domain_label: str
    sector: str | None
    ai_exposure: str | None
    url: str | None


class RoleList(BaseModel):
    total: int
    items: list[RoleSummary]


class FeedbackRequest(BaseModel):
    """Whether one answer helped; ``helpful`` is accepted for ``useful``."""

    model_config = ConfigDict(populate_by_name=True)

    conversation_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    useful: bool = Field(validation_alias=AliasChoices("useful", "helpful"))
    reason: str | None = Field(
        default=None, max_length=100,
        description="Code or label: " + " | ".join(f"{k} ({v})" for k, v in FEEDBACK_REASONS.items()),
    )
    comment: str = Field(default="", max_length=2000)
    turn: int | None = Field(default=None, ge=1, description="Which answer (1 = first); the latest by default.")


class FeedbackReceipt(BaseModel):
    status: Literal["enregistré", "remplacé"]


class Health(BaseModel):
    status: str
    index: str = ""
    done: int = 0
    total: int = 0


@router.post("/ask", response_model=Answer)
async def ask(body: AskRequest, assistant: AssistantDep, request: Request) -> Answer:
    """Answer a question with cited sources and recommended trainings."""
    return await run_answering(
        request, assistant.answer, body.question, conversation_id=body.conversation_id, profile=body.profile
    )


@router.post("/ask/stream")
async def ask_stream(body: AskRequest, assistant: AssistantDep, request: Request):
    """Answer as NDJSON: ``{"type": "text", "text": ...}`` pieces, then ``{"type": "answer", ...}``.

    Pieces come only from a streaming writer (an LLM); the final answer is the checked one.
    """
    from assistant import OrientiaError

    from ..streaming import stream_ndjson

    def work(emit) -> None:
        try:
            answer = assistant.answer(
                body.question, conversation_id=body.conversation_id, profile=body.profile,
                on_text=lambda text: emit({"type": "text", "text": text}),
            )
        except OrientiaError as exc:
            emit({"type": "error", "detail": exc.message, "status": exc.status_code})
            return
        emit({"type": "answer", "answer": answer.model_dump(mode="json")})

    return stream_ndjson(work, name="orientia-api-stream", limiter=request.app.state.answer_limiter)


def training_filters(
    q: Annotated[str, Query(max_length=200)] = "",
    role: Annotated[str | None, Query(max_length=100)] = None,
    department: Annotated[str | None, Query(pattern=r"^(02|59|60|62|80)$")] = None,
    format: Annotated[Literal["présentiel", "distanciel", "mixte"] | None, Query()] = None,  # noqa: A002
    max_hours: Annotated[float | None, Query(gt=0, le=MAX_HOURS, allow_inf_nan=False)] = None,
    max_price: Annotated[float | None, Query(ge=0, le=MAX_PRICE, allow_inf_nan=False)] = None,
    funding: Annotated[list[Funding] | None, Query(max_length=6)] = None,
    certifying: Annotated[bool | None, Query()] = None,
) -> TrainingFilters:
    return TrainingFilters(
        q=q, role=role or None, department=department, format=format, max_hours=max_hours,
        max_price=max_price, funding=list(funding or []), certifying=certifying,
    )


@router.get("/trainings", response_model=TrainingPage)
async def list_trainings(
    assistant: AssistantDep,
    request: Request,
    filters: Annotated[TrainingFilters, Depends(training_filters)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TrainingPage:
    """List trainings meeting every filter."""
    total, items = await run_answering(request, assistant.trainings, filters, limit=limit, offset=offset)
    return TrainingPage(total=total, items=items)


@router.get("/trainings/{training_id}", response_model=Training)
def get_training(training_id: Annotated[str, Path(max_length=100)], assistant: AssistantDep) -> Training:
    """One training offer."""
    return assistant.training(training_id)


@router.get("/certifications", response_model=CertificationList)
def list_certifications(assistant: AssistantDep) -> CertificationList:
    """Every certification with its blocs."""
    items = assistant.certifications()
    return CertificationList(total=len(items), items=items)


@router.get("/certifications/{code}", response_model=Certification)
def get_certification(code: Annotated[str, Path(max_length=20)], assistant: AssistantDep) -> Certification:
    """One certification with its blocs de compétences."""
    return assistant.certification(code)


@router.get("/roles", response_model=RoleList)
def list_roles(
    assistant: AssistantDep,
    limit: Annotated[int | None, Query(ge=1, le=2000)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RoleList:
    """Every ROME job sheet (``total`` counts them all; ``limit``/``offset`` page the items)."""
    items = assistant.roles()
    page = items[offset:] if limit is None else items[offset : offset + limit]
    fields = set(RoleSummary.model_fields)
    return RoleList(total=len(items), items=[RoleSummary(**r.model_dump(include=fields)) for r in page])


@router.get("/roles/{role_id}", response_model=Role)
def get_role(role_id: Annotated[str, Path(max_length=100)], assistant: AssistantDep) -> Role:
    """One ROME job sheet, by its code (e.g. M1203)."""
    return assistant.role(role_id.strip().upper())


@router.get("/sources/{source_id}", response_model=SourcePassage)
def get_source(source_id: Annotated[str, Path(max_length=300)], assistant: AssistantDep) -> SourcePassage:
    """A cited passage in full."""
    return assistant.source(source_id)


@router.post("/feedback", status_code=201, response_model=FeedbackReceipt, responses={200: {"model": FeedbackReceipt}})
def post_feedback(body: FeedbackRequest, assistant: AssistantDep, response: Response) -> FeedbackReceipt:
    """Record whether an answer helped (201; 200 when it replaces an earlier opinion)."""
    created = assistant.feedback(
        conversation_id=body.conversation_id, useful=body.useful, reason=body.reason,
        comment=body.comment, turn=body.turn,
    )
    if not created:
        response.status_code = 200
    return FeedbackReceipt(status="enregistré" if created else "remplacé")


health_router = APIRouter(tags=["health"])


@health_router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process serves (answered on the event loop: never waits behind answers)."""
    return Health(status="ok")


@health_router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(bootstrap: BootstrapDep, assistant: AssistantDep):
    """The index is built and loaded: questions can be answered."""
    from fastapi.responses import JSONResponse

    try:
        if bootstrap.state == "ready" and assistant.ready():
            if assistant.index.reachable():
                return Health(status="ready", index="ready")
            body = Health(status="not-ready", index="unreachable")
        else:
            body = Health(status="not-ready", index=bootstrap.state, done=bootstrap.done, total=bootstrap.total)
    except Exception:  # noqa: BLE001 - the database is down: not ready, said as such
        log.warning("Readiness check failed", exc_info=True)
        body = Health(status="not-ready", index="unreachable")
    return JSONResponse(body.model_dump(), status_code=503)
