"""``Annotated`` dependency aliases: routes declare what they need, tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistant import Assistant, Settings

from .jobs import Bootstrap

__all__ = [
    "AssistantDep", "SettingsDep", "BootstrapDep", "ObservatoryAdmin", "get_assistant", "get_settings",
]


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_bootstrap(request: Request) -> Bootstrap:
    return request.app.state.bootstrap


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BootstrapDep = Annotated[Bootstrap, Depends(get_bootstrap)]


def require_observatory_admin(request: Request) -> None:
    """The observatory is for admins: ``Authorization: Bearer <ORIENTIA_ADMIN_TOKEN>``.

    Temporary: the admin login sessions and API tokens (issue 12, ``AdminUser``/``AdminToken``)
    replace this check when the branches merge. Without a configured token nobody gets in. The
    401 says nothing about why (no token set, wrong token, none sent).
    """
    import secrets

    from fastapi import HTTPException

    expected = get_settings(request).admin_token.get_secret_value()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not (expected and scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), expected.encode())):
        raise HTTPException(
            status_code=401,
            detail="Accès réservé aux administrateurs : authentification requise.",
            headers={"WWW-Authenticate": "Bearer"},
        )


ObservatoryAdmin = Annotated[None, Depends(require_observatory_admin)]
