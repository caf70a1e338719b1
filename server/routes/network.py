"""`/network/...`: measures of the partnership web as JSON, and the networks as files.

Thin: the computing is in `graph.network.projection*`; the filters, the served data and the
cached views are shared with the pictures and live in server/network_views.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from graph.network.data import UnknownActor
from graph.network.export import EXPORT_FORMATS, node_link
from graph.network.measures import MEASURES
from graph.network.projection import FilterError
from graph.store.execution import QueryTimeout
from server.network_views import (
    FilterDep,
    complete_later,
    data_version,
    network_data,
    open_view,
    persist,
    persisted,
    result_name,
)


class NetworkRoute(APIRoute):
    """Errors a user can fix become 404 (unknown actor) or 422 (bad filter), naming the value;
    a slow or failing store becomes 503."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except UnknownActor as exc:
                return JSONResponse({"detail": str(exc), "actor": exc.name}, status_code=404)
            except FilterError as exc:
                return JSONResponse({"detail": {"param": exc.param, "message": str(exc)}},
                                    status_code=422)
            except QueryTimeout as exc:
                return JSONResponse({"detail": f"the store took too long: {exc}"},
                                    status_code=503)
            except RuntimeError as exc:
                return JSONResponse({"detail": f"the store could not answer: {exc}"},
                                    status_code=503)

        return guarded


router = APIRouter(prefix="/network", tags=["network"], route_class=NetworkRoute)


def answer(request: Request, body: dict) -> Response:
    version = data_version(request)
    current = getattr(request.app.state, "data_version", 0)
    extra = {"data_version": version}
    if current != version:
        extra["current_data_version"] = current
    return Response(json.dumps({**body, **extra}, ensure_ascii=False),
                    media_type="application/json")


def _id(kind: str, slug: str) -> str:
    return f"{kind}/{slug}"


# --- endpoints ---------------------------------------------------------------------------------

@router.get("/filters", summary="What the filters accept: kinds, topics, classes, countries, years")
async def filters_(request: Request) -> Response:
    data = await network_data(request)
    return answer(request, data.vocabulary())


@router.get("/stats", summary="Size, components, clustering, cores, communities, assortativity, "
                              "distances of the partner network")
async def stats(request: Request, filters: FilterDep) -> Response:
    name = result_name("stats", filters.raw)
    found = await persisted(request, name)
    if found is not None:
        return answer(request, found)
    view = await open_view(request, filters)
    version = data_version(request)
    if version != getattr(request.app.state, "data_version", 0):  # served stale: kept?
        found = await persisted(request, name, version)
        if found is not None:
            return answer(request, found)
    body = await run_in_threadpool(view.stats_now,
                                   request.app.state.settings.network_background_nodes)
    if body["pending"]:
        complete_later(request.app, view, version, name)
        await run_in_threadpool(persist, request.app, version, name, body, provisional=True)
    else:
        await run_in_threadpool(persist, request.app, version, name, body)
    return answer(request, body)


@router.get("/top", summary="Actors ranked by a measure")
async def top(request: Request, filters: FilterDep,
              by: Annotated[str, Query(description=", ".join(MEASURES))] = "degree",
              limit: Annotated[int, Query(ge=1, le=1000)] = 10) -> Response:
    if by not in MEASURES:
        raise FilterError("by", f"unknown measure {by!r}; use {', '.join(MEASURES)}")
    view = await open_view(request, filters)
    return answer(request, await run_in_threadpool(view.top, by, limit))


@router.get("/path", summary="A shortest chain of partnerships between two actors")
async def path(request: Request, filters: FilterDep,
               source: Annotated[str, Query(alias="from", description="city/gdynia, an IRI or "
                                            "a label")],
               target: Annotated[str, Query(alias="to")]) -> Response:
    view = await open_view(request, filters)
    return answer(request, await run_in_threadpool(view.path, source, target))


@router.get("/ego/{path_kind}/{slug}", summary="An actor's neighbourhood within `radius` hops")
async def ego(request: Request, path_kind: str, slug: str, filters: FilterDep,
              radius: Annotated[int, Query(ge=1, le=4)] = 1) -> Response:
    view = await open_view(request, filters)
    actor, sub = await run_in_threadpool(view.ego, _id(path_kind, slug), radius)
    return answer(request, {**view.about(), "centre": actor.id, "radius": radius,
                            "nodes": sub.number_of_nodes(), "edges": sub.number_of_edges(),
                            "network": node_link(sub)})


@router.get("/actors/{path_kind}/{slug}", summary="Every measure of one actor")
async def actor(request: Request, path_kind: str, slug: str, filters: FilterDep) -> Response:
    view = await open_view(request, filters)
    found = view.actor(_id(path_kind, slug))
    return answer(request, {**view.about(),
                            **await run_in_threadpool(view.analysis.actor, found.id)})


@router.get("/communities", summary="Louvain communities (fixed seed), largest first")
async def communities(request: Request, filters: FilterDep,
                      members: Annotated[int, Query(ge=0, le=10000)] = 50) -> Response:
    view = await open_view(request, filters)
    return answer(request, await run_in_threadpool(view.communities, members))


@router.get("/timeline", summary="Growth: nodes, edges and components as of each year")
async def timeline(request: Request, filters: FilterDep) -> Response:
    view = await open_view(request, filters)
    return answer(request, await run_in_threadpool(view.timeline))


@router.get("/countries", summary="The country network (partner network aggregated by country)")
async def countries(request: Request, filters: FilterDep) -> Response:
    view = await open_view(request, filters, "country")
    body = await run_in_threadpool(view.analysis.memo, "countries", lambda: {
        "nodes": view.graph.number_of_nodes(), "edges": view.graph.number_of_edges(),
        "network": node_link(view.graph)})
    return answer(request, {**view.about(), **body})


@router.get("/export", summary="The network as GraphML, GEXF (Gephi, Cytoscape), CSV or JSON")
async def export(request: Request, filters: FilterDep,
                 format: Annotated[str, Query(description=", ".join(EXPORT_FORMATS))] = "graphml",
                 projection: Annotated[str, Query(description="partner, bipartite or country")]
                 = "partner",
                 table: Annotated[str, Query(description="CSV only: edges or nodes")] = "edges",
                 ) -> Response:
    if format not in EXPORT_FORMATS:
        raise FilterError("format", f"unknown format {format!r}; use {', '.join(EXPORT_FORMATS)}")
    if table not in ("edges", "nodes"):
        raise FilterError("table", f"unknown table {table!r}; use edges or nodes")
    view = await open_view(request, filters, projection)
    body = await run_in_threadpool(view.export, format, table)
    suffix = f"-{table}" if format == "csv" else ""
    name = f"citydiplomacy-{projection}{suffix}.{format}"
    return Response(body, media_type=EXPORT_FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Data-Version": str(data_version(request))})
