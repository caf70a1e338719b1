"""Typed dependencies: the settings and the backend the app was started with.

They are coroutines on purpose: FastAPI runs a plain function dependency in its thread pool,
a hop that cost more than a small query itself.
"""

from typing import Annotated

from fastapi import Depends, Request

from graph.backend import Backend
from graph.core.settings import Settings


async def get_backend(request: Request) -> Backend:
    return request.app.state.backend


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
