"""Admin pages (French): login, the /admin dashboard, uploads, deletion, rollback, logout.

Every page needs a logged-in admin (``AdminUser``: a server-side session in the database, named
by a random id in an HttpOnly cookie); every form carries the session's CSRF token, checked here.
The login form itself uses a double-submit token (cookie + hidden field).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from ..admin import AdminIdentity, LoginRefused
from ..admin.service import (
    STATUS_LABELS,
    AdminError,
    delete_document,
    job_out,
    reindex,
    rollback,
    upload_files,
    versions_out,
)
from ..deps import (
    SESSION_COOKIE,
    AccountsDep,
    AdminUser,
    AssistantDep,
    JobRunnerDep,
    LibraryDep,
    SettingsDep,
    check_csrf,
)
from .pages import _render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "orientia_login_csrf"


def _client(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# -- Login and logout -----------------------------------------------------------------------------


def _login_page(request: Request, *, error: str = "", username: str = "", status_code: int = 200):
    token = secrets.token_urlsafe(32)
    response = _render(request, "admin_login.html", {"csrf_token": token, "error": error, "username": username}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/admin")
    return _no_store(response)


@router.get("/admin/connexion", response_class=HTMLResponse)
def login_form(request: Request):
    """The admin login page."""
    return _login_page(request)


@router.post("/admin/connexion", response_class=HTMLResponse)
async def login(request: Request, accounts: AccountsDep):
    """Check a password; open a session on success."""
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    submitted, expected = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(submitted, expected):
        return _login_page(request, error="Le formulaire a expiré : réessayez.", username=username, status_code=403)
    try:
        session_id, _ = await run_in_threadpool(
            accounts.login, username, str(form.get("password") or ""), client=_client(request)
        )
    except LoginRefused as exc:
        response = _login_page(request, error=exc.message, username=username, status_code=exc.status_code)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=_secure(request),
        path="/", max_age=8 * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


@router.post("/admin/deconnexion")
async def logout(request: Request, identity: AdminUser, accounts: AccountsDep):
    """Close the session."""
    form = await request.form()
    check_csrf(identity, form.get("csrf_token"))
    accounts.logout(request.cookies.get(SESSION_COOKIE))
    accounts.audit(identity.actor, "déconnexion", "")
    response = RedirectResponse("/admin/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- Dashboard --------------------------------------------------------------------------------------


def _dashboard(request: Request, identity: AdminIdentity, assistant, library, accounts, *, errors=None, message: str = "", status_code: int = 200):
    docs = library.documents()
    kb = assistant.index.snapshot()
    bundled = 0
    if kb is not None:
        uploaded = {d["filename"] for d in docs if d["status"] == "active"}
        bundled = sum(
            1 for table in (kb.trainings, kb.certifications, kb.roles, kb.study, kb.documents)
            for record in table.values() if not uploaded.intersection(getattr(record, "sources", []))
        )
    jobs = [job_out(j) for j in library.recent_jobs(10)]
    context = {
        "identity": identity,
        "csrf_token": identity.csrf_token,
        "documents": docs,
        "status_labels": STATUS_LABELS,
        "versions": versions_out(assistant, library),
        "jobs": jobs,
        "job": jobs[0] if jobs else None,
        "audit": accounts.audit_entries(30),
        "bundled_records": bundled,
        "errors": errors or [],
        "message": message,
        "max_mb": request.app.state.settings.upload_max_mb,
    }
    return _no_store(_render(request, "admin.html", context, status_code=status_code))


@router.get("/admin", response_class=HTMLResponse)
def dashboard(request: Request, identity: AdminUser, assistant: AssistantDep, library: LibraryDep, accounts: AccountsDep):
    """Documents, index versions, jobs and the audit log."""
    return _dashboard(request, identity, assistant, library, accounts, message=request.query_params.get("info", "")[:200])


@router.get("/admin/taches/{job_id}", response_class=HTMLResponse)
def job_fragment(request: Request, job_id: int, identity: AdminUser, library: LibraryDep):
    """A job's progress (the fragment HTMX polls while the job runs)."""
    job = library.job(job_id)
    if job is None:
        return _render(request, "error.html", {"message": "Tâche introuvable.", "status_code": 404}, block="message", status_code=404)
    response = _render(request, "_admin_job.html", {"job": job_out(job)})
    # The page was showing a running job that has now ended: reload it to show the new index.
    if request.query_params.get("etait") in ("queued", "running") and job["status"] in ("done", "failed"):
        response.headers["HX-Refresh"] = "true"
    return _no_store(response)


@router.post("/admin/documents", response_class=HTMLResponse)
async def upload(
    request: Request, identity: AdminUser, assistant: AssistantDep, settings: SettingsDep,
    library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep,
):
    """Upload one or several files (one job)."""
    form = await request.form(max_files=50)
    check_csrf(identity, form.get("csrf_token"))
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
    try:
        job_id, notes = await upload_files(files, settings=settings, library=library, runner=runner, accounts=accounts, actor=identity.actor)
    except AdminError as exc:
        return _dashboard(request, identity, assistant, library, accounts, errors=exc.errors or [exc.message], status_code=exc.status_code)
    return RedirectResponse(f"/admin#tache-{job_id}", status_code=303)


@router.post("/admin/documents/{doc_id}/supprimer", response_class=HTMLResponse)
async def delete(request: Request, doc_id: int, identity: AdminUser, assistant: AssistantDep, library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep):
    """Remove a document from the index."""
    form = await request.form()
    check_csrf(identity, form.get("csrf_token"))
    try:
        delete_document(doc_id, library=library, runner=runner, accounts=accounts, actor=identity.actor)
    except AdminError as exc:
        return _dashboard(request, identity, assistant, library, accounts, errors=[exc.message], status_code=exc.status_code)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/reindexer", response_class=HTMLResponse)
async def reindex_all(request: Request, identity: AdminUser, library: LibraryDep, runner: JobRunnerDep, accounts: AccountsDep):
    """Rebuild the whole index."""
    form = await request.form()
    check_csrf(identity, form.get("csrf_token"))
    reindex(library=library, runner=runner, accounts=accounts, actor=identity.actor)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/versions/{version}/restaurer", response_class=HTMLResponse)
async def restore(request: Request, version: int, identity: AdminUser, assistant: AssistantDep, library: LibraryDep, accounts: AccountsDep):
    """Serve a kept earlier index version again."""
    form = await request.form()
    check_csrf(identity, form.get("csrf_token"))
    try:
        rollback(version, assistant=assistant, library=library, accounts=accounts, actor=identity.actor)
    except AdminError as exc:
        return _dashboard(request, identity, assistant, library, accounts, errors=[exc.message], status_code=exc.status_code)
    return RedirectResponse(f"/admin?info=Version+{version}+en+service", status_code=303)
