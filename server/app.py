"""The FastAPI application: a thin HTTP layer over the store backend."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from graph.backend import Backend, open_backend
from graph.core.settings import Settings, get_settings
from graph.network.viz import VENDOR_DIR
from graph.write.auth import WriteTokens
from server import STATIC_DIR, derived_views
from server.admission import Admission, AdmissionMiddleware
from server.errors import HANDLERS, ErrorContract
from server.rendering import compile_templates
from server.replay import Replay
from server.routes import (
    changes,
    dumps,
    entities,
    meta,
    network,
    pages,
    queries,
    sparql,
    store,
    update,
    viz,
    viz_map,
    world,
    yasgui,
)
from server.versions import VersionHeaders
from server.writing import WRITE_THREADS


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> FastAPI:
    """An app over the given backend, or over the one the settings describe (opened at start)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        compile_templates()
        app.state.backend = backend or open_backend(settings)
        app.state.write_threads = ThreadPoolExecutor(WRITE_THREADS,
                                                     thread_name_prefix="citydip-write")
        app.state.backend.admission = app.state.admission.gate
        await app.state.backend.start()
        await derived_views.start(app)
        try:
            yield
        finally:
            derived_views.stop(app)
            # Writes still running finish first, off the loop (it announces them meanwhile).
            await asyncio.to_thread(app.state.write_threads.shutdown, True)
            app.state.backend.close()

    app = FastAPI(
        title="citydiplomacy",
        summary="A knowledge graph of city diplomacy: SPARQL endpoint, named queries, "
        "Linked Data pages.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below with local assets: no page loads anything from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    for exception, handler in HANDLERS.items():
        app.add_exception_handler(exception, handler)
    app.state.write_tokens = WriteTokens.parse(settings.write_tokens)
    app.state.write_lock = threading.Lock()  # taken in the write threads (server/writing.py)
    app.state.data_version = 0
    app.state.admission = Admission(settings, app.state.write_tokens)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "Authorization"],
        expose_headers=["X-Result-Truncated", "X-Max-Rows", "X-Change-Id", "Location",
                        "X-Total-Count", "X-Data-Version", "X-Current-Data-Version"],
    )
    app.add_middleware(VersionHeaders)
    app.add_middleware(AdmissionMiddleware, admission=app.state.admission)
    app.add_middleware(Replay, enabled=settings.replay_kept)
    app.add_middleware(ErrorContract)  # outermost: sees whatever the routes did not answer
    app.include_router(sparql.router)
    app.include_router(queries.router)
    app.include_router(meta.router)
    app.include_router(pages.router)
    app.include_router(entities.router)
    app.include_router(network.router)
    app.include_router(viz.router)
    app.include_router(viz_map.router)
    app.include_router(world.router)
    app.include_router(update.router)
    app.include_router(store.router)
    app.include_router(changes.router)
    app.include_router(dumps.router)
    app.include_router(yasgui.router)
    # vis-network is vendored beside the picture code (graph/network/), the rest of the assets here.
    app.mount("/static/vendor/vis-network", StaticFiles(directory=VENDOR_DIR / "vis-network"),
              name="vis-network")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="citydiplomacy API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    return app
