"""The FastAPI application: a thin HTTP layer over the store backend."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from graph.backend import Backend, open_backend
from graph.settings import Settings, get_settings
from server import STATIC_DIR
from server.routes import meta, pages, queries, sparql


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> FastAPI:
    """An app over the given backend, or over the one the settings describe (opened at start)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.backend = backend or open_backend(settings)
        await app.state.backend.start()
        try:
            yield
        finally:
            app.state.backend.close()

    app = FastAPI(
        title="citydiplomacy",
        summary="A knowledge graph of city diplomacy: SPARQL endpoint, named queries, "
        "Linked Data pages.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "Authorization"],
        expose_headers=["X-Result-Truncated", "X-Max-Rows"],
    )
    app.include_router(sparql.router)
    app.include_router(queries.router)
    app.include_router(meta.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
