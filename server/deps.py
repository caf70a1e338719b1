"""Typed dependencies: the settings and the backend the app was started with."""

from typing import Annotated

from fastapi import Depends, Request

from graph.backend import Backend
from graph.settings import Settings


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
