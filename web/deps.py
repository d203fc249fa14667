"""``Annotated`` dependency aliases: routes declare what they need, tests can override it."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from assistant import Assistant, Settings

from .admin import Accounts, AdminIdentity, JobRunner, Library
from .jobs import Bootstrap

__all__ = [
    "AccountsDep",
    "AdminToken",
    "AdminUser",
    "AssistantDep",
    "BootstrapDep",
    "JobRunnerDep",
    "LibraryDep",
    "ObservatoryAdmin",
    "SESSION_COOKIE",
    "SettingsDep",
    "check_csrf",
    "get_assistant",
    "get_settings",
]

#: name of the admin session cookie (a random id; the session lives in the database)
SESSION_COOKIE = "orientia_admin"


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_bootstrap(request: Request) -> Bootstrap:
    return request.app.state.bootstrap


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def get_library(request: Request) -> Library:
    return request.app.state.library


def get_job_runner(request: Request) -> JobRunner:
    return request.app.state.job_runner


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BootstrapDep = Annotated[Bootstrap, Depends(get_bootstrap)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
LibraryDep = Annotated[Library, Depends(get_library)]
JobRunnerDep = Annotated[JobRunner, Depends(get_job_runner)]


def admin_user(request: Request, accounts: AccountsDep) -> AdminIdentity:
    """The logged-in admin of an admin page (session cookie), or 401 revealing nothing."""
    identity = accounts.session(request.cookies.get(SESSION_COOKIE))
    if identity is None:
        raise HTTPException(status_code=401, detail="Connexion administrateur requise.")
    return identity


def admin_token(request: Request, accounts: AccountsDep) -> AdminIdentity:
    """The API token of an ``/api/admin/`` call (``Authorization: Bearer``), or 401 revealing nothing."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    identity = accounts.token(value.strip()) if scheme.lower() == "bearer" else None
    if identity is None:
        raise HTTPException(
            status_code=401, detail="Jeton d'API requis (en-tête Authorization: Bearer).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return identity


#: a logged-in admin (pages under /admin)
AdminUser = Annotated[AdminIdentity, Depends(admin_user)]
#: a valid API token (endpoints under /api/admin)
AdminToken = Annotated[AdminIdentity, Depends(admin_token)]


def check_csrf(identity: AdminIdentity, submitted: object) -> None:
    """Refuse (403) an admin form whose CSRF token is not the session's."""
    if not isinstance(submitted, str) or not submitted or not identity.csrf_token or not hmac.compare_digest(submitted, identity.csrf_token):
        raise HTTPException(status_code=403, detail="Jeton de sécurité du formulaire invalide : rechargez la page et réessayez.")


def require_observatory_admin(request: Request) -> None:
    """The observatory is for admins: ``Authorization: Bearer <ORIENTIA_ADMIN_TOKEN>``.

    A logged-in admin session and the API tokens of ``orientia admin create-token`` (issue 12) are
    accepted, and so is the static ``ORIENTIA_ADMIN_TOKEN`` until the observatory's tests use
    accounts. The 401 says nothing about why (no token set, wrong token, none sent).
    """
    import secrets

    from fastapi import HTTPException

    accounts = get_accounts(request)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if accounts.session(request.cookies.get(SESSION_COOKIE)) is not None:
        return  # a logged-in admin (issue 12)
    if scheme.lower() == "bearer" and accounts.token(given.strip()) is not None:
        return  # an API token from `orientia admin create-token` (issue 12)
    expected = get_settings(request).admin_token.get_secret_value()
    if not (expected and scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), expected.encode())):
        raise HTTPException(
            status_code=401,
            detail="Accès réservé aux administrateurs : authentification requise.",
            headers={"WWW-Authenticate": "Bearer"},
        )


ObservatoryAdmin = Annotated[None, Depends(require_observatory_admin)]
