"""The admin JSON API under ``/api/admin`` (``Authorization: Bearer <token>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..admin.service import (
    AdminError,
    DocumentOut,
    JobOut,
    VersionOut,
    delete_document,
    documents_out,
    job_out,
    reindex,
    rollback,
    upload_files,
    versions_out,
)
from ..deps import AccountsDep, AdminToken, AssistantDep, JobRunnerDep, LibraryDep, SettingsDep

__all__ = ["router"]

router = APIRouter(prefix="/api/admin", tags=["admin"])


class JobAccepted(BaseModel):
    job_id: int
    notes: list[str] = []


class DocumentList(BaseModel):
    total: int
    items: list[DocumentOut]


class VersionList(BaseModel):
    active: int | None
    items: list[VersionOut]


class RollbackDone(BaseModel):
    version: int
    previous: int | None


class AuditEntry(BaseModel):
    at: str
    actor: str
    action: str
    detail: str


def _refused(exc: AdminError) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=exc.status_code)


@router.post("/documents", status_code=202, response_model=JobAccepted)
async def post_documents(
    identity: AdminToken, settings: SettingsDep, library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep,
    file: Annotated[list[UploadFile], File(description="Un ou plusieurs fichiers (champ répétable)")],
):
    """Upload files (several form one job); answers 202 with the job id."""
    try:
        job_id, notes = await upload_files(file, settings=settings, library=library, runner=runner, accounts=accounts, actor=identity.actor)
    except AdminError as exc:
        return _refused(exc)
    return JobAccepted(job_id=job_id, notes=notes)


@router.get("/documents", response_model=DocumentList)
def get_documents(_: AdminToken, library: LibraryDep) -> DocumentList:
    """Every uploaded document, newest first, with its status in the index."""
    items = documents_out(library)
    return DocumentList(total=len(items), items=items)


@router.delete("/documents/{doc_id}", status_code=202, response_model=JobAccepted)
def remove_document(doc_id: int, identity: AdminToken, library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep):
    """Remove a document from the index (a job rebuilds the index without it)."""
    try:
        return JobAccepted(job_id=delete_document(doc_id, library=library, runner=runner, accounts=accounts, actor=identity.actor))
    except AdminError as exc:
        return _refused(exc)


@router.post("/reindex", status_code=202, response_model=JobAccepted)
def post_reindex(identity: AdminToken, library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep) -> JobAccepted:
    """Rebuild the index from the bundled knowledge and every active document."""
    return JobAccepted(job_id=reindex(library=library, runner=runner, accounts=accounts, actor=identity.actor))


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, _: AdminToken, library: LibraryDep):
    """One job: status (queued, running, done, failed), progress and errors."""
    job = library.job(job_id)
    if job is None:
        return JSONResponse({"detail": f"Tâche introuvable : n° {job_id}."}, status_code=404)
    return job_out(job)


@router.get("/jobs", response_model=list[JobOut])
def get_jobs(_: AdminToken, library: LibraryDep) -> list[JobOut]:
    """The latest jobs, newest first."""
    return [job_out(j) for j in library.recent_jobs(20)]


@router.get("/versions", response_model=VersionList)
def get_versions(_: AdminToken, assistant: AssistantDep, library: LibraryDep) -> VersionList:
    """The active index version and the earlier ones kept for rollback."""
    items = versions_out(assistant, library)
    return VersionList(active=next((v.id for v in items if v.status == "active"), None), items=items)


@router.post("/versions/{version}/rollback", response_model=RollbackDone)
def post_rollback(version: int, identity: AdminToken, assistant: AssistantDep, library: LibraryDep, accounts: AccountsDep):
    """Serve a kept earlier version again (an atomic switch)."""
    try:
        return RollbackDone(**rollback(version, assistant=assistant, library=library, accounts=accounts, actor=identity.actor))
    except AdminError as exc:
        return _refused(exc)


@router.get("/audit", response_model=list[AuditEntry])
def get_audit(_: AdminToken, accounts: AccountsDep) -> list[AuditEntry]:
    """Who did what and when (latest 100 entries)."""
    return [AuditEntry(at=e["at"].isoformat(), actor=e["actor"], action=e["action"], detail=e["detail"]) for e in accounts.audit_entries(100)]
