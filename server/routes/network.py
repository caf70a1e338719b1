"""`/network/...`: measures of the partnership web as JSON, and the networks as files.

Thin: the computing is in `graph.network.projection*`. The store is read once per data version
(`app.state.data_version`, 0 when absent) and the views are cached in `app.state.network_cache`;
computations run in the thread pool so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from graph.network.cache import NetworkCache, View
from graph.network.data import NetworkData, UnknownActor, fetch_async
from graph.network.export import EXPORT_FORMATS, node_link
from graph.network.measures import MEASURES
from graph.network.persist import Background, ResultStore
from graph.network.projection import FilterError, Filters
from graph.store.execution import QueryTimeout
from server.cache import derived, describes


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


log = logging.getLogger(__name__)

router = APIRouter(prefix="/network", tags=["network"], route_class=NetworkRoute)


class FilterQuery:
    """The filters every endpoint takes, as query parameters (repeat one to allow several)."""

    def __init__(
        self,
        kind: Annotated[list[str], Query(description="Partnership kind, e.g. "
                                         "sister-city-agreement, mou-city-relation, agreement, "
                                         "relation (see /network/filters)")] = [],  # noqa: B006
        topic: Annotated[list[str], Query(description="Topic, e.g. semiconductors")] = [],  # noqa: B006
        actor_class: Annotated[list[str], Query(alias="class", description="Actor class, e.g. "
                                                "City, School, Organization")] = [],  # noqa: B006
        country: Annotated[list[str], Query(description="A party's country: id (poland), "
                                            "ISO code (PL) or label")] = [],  # noqa: B006
        since: Annotated[str | None, Query(description="First year (dated only)")] = None,
        until: Annotated[str | None, Query(description="Last year: the web as of that year "
                                           "(dated only)")] = None,
    ) -> None:
        self.raw: dict[str, Any] = {"kind": kind, "topic": topic, "actor_class": actor_class,
                    "country": country, "since": since, "until": until}

    def parse(self, data: NetworkData) -> Filters:
        return Filters.parse(data, **self.raw)


FilterDep = Annotated[FilterQuery, Depends()]


def data_version(request: Request) -> Any:
    """The version the network answers describe: that of the data they were computed from."""
    return getattr(request.state, "network_version",
                   getattr(request.app.state, "data_version", 0))


def network_cache(request: Request) -> NetworkCache:
    return app_network_cache(request.app)


def app_network_cache(app) -> NetworkCache:
    state = app.state
    if getattr(state, "network_cache", None) is None:
        state.network_cache = NetworkCache()
        state.network_lock = asyncio.Lock()
        state.network_completing = set()
    return state.network_cache


def result_store(app) -> ResultStore | None:
    """Where network results are persisted (CITYDIP_DERIVED_DIR), or None."""
    settings = app.state.settings
    if getattr(app.state, "network_results", None) is None:
        path = settings.derived_path if settings.store_backend == "embedded" else None
        app.state.network_results = ResultStore(path / "network") if path else False
    return app.state.network_results or None


def durable_key(app, version: Any) -> str | None:
    return derived(app).durable_key(version)


async def _load(app) -> NetworkData:
    """Read the network data of the current version (persisted, or from the store), make it
    the served one, and, when it replaces older data, prepare the default view's summary first
    so that no reader waits for it (this runs in the background after writes)."""
    cache = app_network_cache(app)
    version = getattr(app.state, "data_version", 0)
    replacing = cache.latest() is not None
    key, store = durable_key(app, version), result_store(app)
    data = await asyncio.to_thread(store.get_data, key) if store and key else None
    if data is None:
        data = await fetch_async(app.state.backend, app.state.settings.queries_dir)
        if store and key:
            await asyncio.to_thread(store.put_data, key, data)
    if replacing:
        def prepare() -> View:
            view = View(data, Filters.parse(data))
            _persist(app, version, _name("stats", {}), view.stats())
            return view

        view = await asyncio.wrap_future(background(app).submit(prepare))
        cache.put(version, data)
        cache.adopt(version, view)
        loop = asyncio.get_running_loop()
        app.state.network_prerender = loop.create_task(
            _prerender_after(app, asyncio.current_task()))
    else:
        cache.put(version, data)
    return data


async def network_data(request: Request) -> NetworkData:
    """The served network data: the current version's, or the previous one's while the new
    is read in the background after a write (the answers say which: `data_version`)."""
    app = request.app
    cache = network_cache(request)
    await derived(app).get("network:data", lambda: _load(app))
    version, data = cache.latest()  # type: ignore[misc]
    request.state.network_version = version
    describes(request, version)
    return data


async def open_view(request: Request, filters: FilterQuery, projection: str = "partner") -> View:
    """The cached view for these filters (projected on first use, off the event loop)."""
    data = await network_data(request)
    parsed = filters.parse(data)
    return await run_in_threadpool(network_cache(request).view, data_version(request), parsed,
                                   projection, data)


def _name(endpoint: str, raw: dict, *extra: Any) -> str:
    return ResultStore.name(endpoint, {k: v for k, v in raw.items() if v not in ([], None)},
                            *extra)


def _persist(app, version: Any, name: str, body: Any) -> None:
    store, key = result_store(app), durable_key(app, version)
    if store and key:
        store.put(key, name, body)


async def persisted(request: Request, name: str, version: Any = None) -> Any | None:
    """A result persisted for the current data version (or `version`), read without touching
    the network data (a restart with unchanged data answers from here)."""
    store = result_store(request.app)
    if version is None:
        version = getattr(request.app.state, "data_version", 0)
    key = durable_key(request.app, version)
    if not (store and key):
        return None
    found = await asyncio.to_thread(store.get, key, name)
    if found is not None:
        request.state.network_version = version
        describes(request, version)
    return found


def complete_later(app, view: View, version: Any, name: str) -> None:
    """Compute a view's expensive measures in the background (one at a time), then persist
    its full summary."""
    state = app.state
    token = (version, view.projection, view.filters)
    if token in state.network_completing:
        return
    state.network_completing.add(token)

    def work() -> None:
        try:
            _persist(app, version, name, view.stats())
        except Exception:  # noqa: BLE001 - a failed background measure is retried on demand
            log.exception("computing the network measures in the background failed")
        finally:
            state.network_completing.discard(token)

    background(app).submit(work)


def background(app) -> Background:
    """The app's thread for long network computations (see `graph.network.persist`)."""
    if getattr(app.state, "network_background", None) is None:
        app.state.network_background = Background()
    return app.state.network_background


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
    name = _name("stats", filters.raw)
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
    else:
        await run_in_threadpool(_persist, request.app, version, name, body)
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


async def warm(app) -> None:
    """At start: read the network data (persisted, or from the store), make the default
    summary complete and the default pages, so that the first visitor waits for none of it."""
    cache = app_network_cache(app)
    await derived(app).get("network:data", lambda: _load(app))
    version, data = cache.latest()  # type: ignore[misc]
    name = _name("stats", {})
    store, key = result_store(app), durable_key(app, version)
    if not (store and key and await asyncio.to_thread(store.get, key, name) is not None):
        view = await asyncio.to_thread(cache.view, version, Filters.parse(data), "partner", data)
        body = await asyncio.wrap_future(background(app).submit(view.stats))
        await asyncio.to_thread(_persist, app, version, name, body)
    await prerender(app)


PRERENDER: list[Callable[[Any], Awaitable[None]]] = []
"""Pages made ahead for each new data version (server/routes/viz.py adds /viz/network)."""


async def prerender(app) -> None:
    for hook in PRERENDER:
        try:
            await hook(app)
        except Exception:  # noqa: BLE001 - made on demand instead
            log.exception("a network page could not be made ahead")


async def _prerender_after(app, loading: asyncio.Task | None) -> None:
    if loading is not None:
        await asyncio.wait([loading])
    await prerender(app)
