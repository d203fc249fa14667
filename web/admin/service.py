"""What an admin can do, shared by the pages and the JSON API: upload, delete, re-index, roll back.

Each action is checked, written to the audit log and, when it changes the index, queued as a job.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from assistant import Assistant, Settings
from assistant.errors import OrientiaError

from .accounts import Accounts
from .library import JobRunner, Library

__all__ = [
    "AdminError",
    "DocumentOut",
    "JobOut",
    "VersionOut",
    "delete_document",
    "documents_out",
    "job_out",
    "reindex",
    "rollback",
    "upload_files",
    "versions_out",
]

STATUS_LABELS = {
    "pending": "en attente", "active": "dans l'index", "deleted": "supprimé", "replaced": "remplacé",
    "rejected": "refusé", "withdrawn": "retiré (retour arrière)",
}


class AdminError(OrientiaError):
    """An admin action refused, with its French message and every problem found."""

    def __init__(self, message: str, *, status_code: int = 422, errors: list[str] | None = None) -> None:
        super().__init__(message, log_message=message)
        self.status_code = status_code
        self.errors = errors or []


class DocumentOut(BaseModel):
    """An uploaded document as the API lists it."""

    id: int
    filename: str
    title: str
    kind: str
    size: int
    sha256: str
    status: str
    records: int
    passages: int
    version: int | None
    uploaded_by: str
    uploaded_at: datetime
    note: str = ""


class JobProgress(BaseModel):
    stage: str = ""
    percent: int = 0
    files_read: int = 0
    files_total: int = 0
    records: int = 0
    passages: int = 0
    passages_done: int = 0
    passages_total: int = 0
    seconds_left: int | None = None


class JobOut(BaseModel):
    """An ingest job: ``status`` is queued, running, done or failed."""

    id: int
    kind: str
    status: str
    progress: JobProgress
    errors: list[str]
    message: str = ""
    version: int | None = None
    document_ids: list[int] = []
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None


class VersionOut(BaseModel):
    """An index version still usable: the active one or a retired one kept for rollback."""

    id: int
    status: str
    created_at: datetime
    activated_at: datetime | None
    records: int | None = None
    chunks: int | None = None
    embedded: int | None = None
    documents: list[int] = []


def documents_out(library: Library) -> list[DocumentOut]:
    return [DocumentOut.model_validate(r) for r in library.documents()]


def job_out(job: dict[str, Any]) -> JobOut:
    return JobOut.model_validate({**job, "progress": JobProgress.model_validate(job["progress"] or {})})


def versions_out(assistant: Assistant, library: Library) -> list[VersionOut]:
    manifests = library.version_documents()
    return [
        VersionOut(
            id=v["id"], status=v["status"], created_at=v["created_at"], activated_at=v["activated_at"],
            records=v["stats"].get("records"), chunks=v["stats"].get("chunks"),
            embedded=v["stats"].get("embedded"), documents=manifests.get(v["id"], []),
        )
        for v in assistant.index.versions()
    ]


async def upload_files(
    files: Sequence[UploadFile], *, settings: Settings, library: Library, runner: JobRunner, accounts: Accounts, actor: str,
) -> tuple[int, list[str]]:
    """Check every file, keep them and queue one job; nothing is kept when any file is refused.

    Returns:
        (job id, notes such as « already imported »).

    Raises:
        AdminError: 413 for a file over the size limit, 415 for an unknown type, 422 otherwise.
    """
    from ingest.documents import check_upload
    from ingest.loaders import load_file

    files = [f for f in files if f is not None and (f.filename or f.size)]
    if not files:
        raise AdminError("Aucun fichier reçu : choisissez au moins un fichier.", status_code=422)
    limit = int(settings.upload_max_mb * 1024 * 1024)
    incoming = settings.uploads_path / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, str, Any]] = []
    try:
        errors: list[str] = []
        status = 422
        for upload in files:
            name = Path((upload.filename or "document").replace("\\", "/")).name or "document"
            fd, temp_name = tempfile.mkstemp(dir=incoming)
            temp = Path(temp_name)
            size = 0
            with os.fdopen(fd, "wb") as out:
                while block := await upload.read(1 << 20):
                    size += len(block)
                    if size > limit:
                        break
                    out.write(block)
            if size > limit:
                temp.unlink(missing_ok=True)
                raise AdminError(
                    f"« {name} » dépasse la taille maximale autorisée de {_mb(limit)} par fichier : rien n'a été importé.",
                    status_code=413, errors=[f"{name} : fichier trop volumineux (la taille maximale est de {_mb(limit)} par fichier)"],
                )
            sniffed, problems = await run_in_threadpool(check_upload, temp, name)
            if sniffed is not None and not problems:
                # Parse and validate now (every bad row by line): the job re-reads the accepted
                # files and checks them together (duplicates, references between files).
                temp = temp.rename(temp.with_suffix(sniffed.suffix))
                _, problems = await run_in_threadpool(load_file, temp, display=name)
                problems = [p for p in problems if not p.notice]  # notices are shown by the job
            if problems:
                if sniffed is None and "non reconnu" in problems[0].reason:
                    status = 415
                errors.extend(str(p) for p in problems)
            temps.append((temp, name, sniffed))
        if errors:
            raise AdminError(
                "Fichier refusé, rien n'a été importé : " + " ; ".join(errors[:5]) + (" …" if len(errors) > 5 else ""),
                status_code=status, errors=errors,
            )
        stored = [library.store_file(temp, filename=name, kind=sniffed.kind, suffix=sniffed.suffix) for temp, name, sniffed in temps]
    finally:
        for temp, _, _ in temps:
            temp.unlink(missing_ok=True)
    job_id, ids, notes = library.add_documents(stored, actor=actor)
    accounts.audit(actor, "envoi de fichiers", f"tâche n° {job_id} : " + ", ".join(f.filename for f in stored))
    runner.wake()
    return job_id, notes


def delete_document(doc_id: int, *, library: Library, runner: JobRunner, accounts: Accounts, actor: str) -> int:
    """Queue the removal of an active document; returns the job id."""
    row = library.document(doc_id)
    if row is None:
        raise AdminError(f"Document introuvable : n° {doc_id}.", status_code=404)
    if row["status"] != "active":
        raise AdminError(f"Le document « {row['filename']} » n'est pas dans l'index ({STATUS_LABELS.get(row['status'], row['status'])}).", status_code=409)
    job_id = library.queue_job("delete", actor=actor, document_ids=[doc_id])
    accounts.audit(actor, "demande de suppression", f"tâche n° {job_id} : {row['filename']}")
    runner.wake()
    return job_id


def reindex(*, library: Library, runner: JobRunner, accounts: Accounts, actor: str) -> int:
    """Queue a rebuild of the index from the bundled knowledge and every active document."""
    job_id = library.queue_job("reindex", actor=actor)
    accounts.audit(actor, "demande de réindexation", f"tâche n° {job_id}")
    runner.wake()
    return job_id


def rollback(version: int, *, assistant: Assistant, library: Library, accounts: Accounts, actor: str) -> dict[str, Any]:
    """Serve a kept earlier version again, at once (one transaction)."""
    if library.busy():
        raise AdminError("Un import est en cours : attendez sa fin avant de revenir à une version précédente.", status_code=409)
    try:
        switched = assistant.index.rollback(version)
    except LookupError:
        raise AdminError(f"La version {version} ne peut pas être restaurée (elle n'est plus conservée ou déjà en service).", status_code=404) from None
    library.apply_version(version)
    accounts.audit(actor, "retour à une version", f"version {version} en service (remplace la version {switched['previous']})")
    return switched


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} Mo".replace(".", ",")
