"""`/viz/map`: the partnerships of an actor, or of any filter, on a world map.

The page is drawn in the browser by server/static/map.js with d3-geo and topojson-client over
Natural Earth outlines (world-atlas), all vendored under server/static/vendor/ (see
scripts/vendor-refresh.sh), so it works offline. This module gives the page its data as JSON
(graph.network.map_data) inside the page, escaped, and also at /viz/map/data for scripts.
Coordinates
are read once per data version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from graph.network.map_data import coordinates, map_data
from server.cache import per_data_version
from server.network_views import FilterDep, VizRoute, open_view
from server.rendering import render

router = APIRouter(prefix="/viz", tags=["pictures"], route_class=VizRoute)
Actor = Annotated[str | None, Query(description="An actor: path (city/kaohsiung), IRI or "
                                    "label; without it, every partnership the filters keep")]


async def placed(request: Request) -> dict[str, tuple[float, float]]:
    """Coordinates by IRI, read from the store once per data version."""
    store = request.app.state.backend.store
    return await per_data_version(request, "map_coordinates",
                                  lambda: run_in_threadpool(coordinates, store))


async def _data(request: Request, filters: FilterDep, actor: str | None) -> dict:
    view = await open_view(request, filters)
    coords = await placed(request)
    root = request.scope.get("root_path", "").rstrip("/")
    return await run_in_threadpool(map_data, view, coords, actor or None, root + "/id/")


@router.get("/map", response_class=HTMLResponse, summary="Map of partnerships")
async def map_page(request: Request, filters: FilterDep, actor: Actor = None) -> Response:
    data = await _data(request, filters, actor)
    return render(request, "map.html", data=data, title=data["title"], actor=actor or "",
                  raw=filters.raw)


@router.get("/map/data", summary="The map's data: points, great-circle ties, unplaced actors")
async def map_json(request: Request, filters: FilterDep, actor: Actor = None) -> Response:
    return JSONResponse(await _data(request, filters, actor))
