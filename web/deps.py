"""``Annotated`` dependency aliases: routes declare what they need, tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistant import Assistant, Settings

from .jobs import Bootstrap

__all__ = ["AssistantDep", "SettingsDep", "BootstrapDep", "get_assistant", "get_settings"]


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_bootstrap(request: Request) -> Bootstrap:
    return request.app.state.bootstrap


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BootstrapDep = Annotated[Bootstrap, Depends(get_bootstrap)]
