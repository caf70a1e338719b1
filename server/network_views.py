"""The network views the routes share: filters, the served data, cached views, results kept.

`/network/...` answers with JSON (server/routes/network.py), `/viz/...` with pictures
(server/routes/viz.py) and `/viz/map` with a map (server/routes/viz_map.py); all three take the
same filters and read the same views. Route modules never import each other
(tests/unit/test_layout.py), so that machinery lives here, beside them. The store is read once
per data version (`app.state.data_version`, 0 when absent) and the views are cached in
`app.state.network_cache`; computations run in the thread pool, or on the app's one background
thread for the long ones (`graph.network.persist`), so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import html
import logging
import pickle
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast

from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from graph.network.cache import NetworkCache, View
from graph.network.data import NetworkData, UnknownActor, fetch_async, fetch_bodies
from graph.network.persist import Background, ResultStore
from graph.network.process import NetworkProcess, NetworkProcessError
from graph.network.projection import FilterError, Filters
from graph.store.execution import QueryTimeout
from server.cache import derived
from server.rendering import CONTENT_SECURITY_POLICY
from server.versions import describes

log = logging.getLogger(__name__)


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
    view: View | None = None
    process = network_process(app)
    if data is None and process is not None:
        data, view = await _made_in_process(app, process, version, summary=replacing)
    elif data is None:
        data = await fetch_async(app.state.backend, app.state.settings.queries_dir)
        if store and key:
            await asyncio.to_thread(store.put_data, key, data)
    if replacing:
        if view is None:
            made = data

            def prepare() -> View:
                view = View(made, Filters.parse(made))
                persist(app, version, result_name("stats", {}), view.stats())
                return view

            view = await asyncio.wrap_future(background(app).submit(prepare))
        cache.put(version, data)
        cache.adopt(version, cast(View, view))
        loop = asyncio.get_running_loop()
        app.state.network_prerender = loop.create_task(
            _prerender_after(app, asyncio.current_task()))
    else:
        cache.put(version, data)
        if view is not None:
            cache.adopt(version, view)
    return data


async def _made_in_process(app, process: NetworkProcess, version: Any, summary: bool
                           ) -> tuple[NetworkData, View | None]:
    """The data of `version` made in the network process from the engine's answers
    (graph.network.process), and with `summary` (data replacing older data, which stays
    served meanwhile) its default view, whose summary the child computed: it is persisted,
    and the view here takes it instead of computing it again. Without (the first data, which
    a reader may be waiting for) the summary is made as in process: the cheap part at once,
    the rest in the background (`complete_later`, which asks the child too)."""
    bodies = await fetch_bodies(app.state.backend, app.state.settings.queries_dir)
    prepared = await asyncio.to_thread(process.version, version, bodies, summary)
    data = await asyncio.to_thread(pickle.loads, prepared.data)  # noqa: S301 - our child's
    store, key = result_store(app), durable_key(app, version)
    if store and key:
        await asyncio.to_thread(store.put_pickled, key, prepared.data)
    if prepared.stats is None or prepared.analysis_stats is None:
        return data, None
    await asyncio.to_thread(persist, app, version, result_name("stats", {}), prepared.stats)
    analysis_stats = prepared.analysis_stats

    def project() -> View:
        view = View(data, Filters.parse(data))
        view.analysis.remember("stats", analysis_stats)
        return view

    return data, await asyncio.to_thread(project)


def network_process(app) -> NetworkProcess | None:
    """The app's network process (CITYDIP_NETWORK_PROCESS), or None: computed in process."""
    settings = app.state.settings
    if not getattr(settings, "network_process", False):
        return None
    if getattr(app.state, "network_process", None) is None:
        app.state.network_process = NetworkProcess(settings.derived_query_timeout)
    return app.state.network_process


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


def result_name(endpoint: str, raw: dict, *extra: Any) -> str:
    return ResultStore.name(endpoint, {k: v for k, v in raw.items() if v not in ([], None)},
                            *extra)


PROVISIONAL = "~provisional"
"""Suffix of an answer persisted while its expensive measures were still computing."""


def persist(app, version: Any, name: str, body: Any, *, provisional: bool = False) -> None:
    """Keep an answer for `version`; `provisional` for one that still says what is computing
    (read back only while the warm-up computes the complete one, see `persisted`)."""
    store, key = result_store(app), durable_key(app, version)
    if store and key:
        store.put(key, name + PROVISIONAL if provisional else name, body)


def warming(app) -> bool:
    """Is the start's warm-up still running (it persists the complete default answers)?"""
    task = getattr(app.state, "derived_warming", None)
    return task is not None and not task.done()


async def persisted(request: Request, name: str, version: Any = None) -> Any | None:
    """A result persisted for the current data version (or `version`), read without touching
    the network data (a restart with unchanged data answers from here).

    A server stopped before its expensive measures were done kept only the provisional answer
    (the cheap measures, and what was still computing). After a restart that answer is served
    while the warm-up computes the complete one, rather than reading the network data back in
    front of the first visitor (1.3 s of unpickling at 5M triples, with the GIL held); once the
    warm-up is over, a missing complete answer is computed on demand as before.
    """
    store = result_store(request.app)
    if version is None:
        version = getattr(request.app.state, "data_version", 0)
    key = durable_key(request.app, version)
    if not (store and key):
        return None
    found = await asyncio.to_thread(store.get, key, name)
    # not for the warm-up's own pages made ahead: it is what makes the complete answers
    if found is None and warming(request.app) and not getattr(request.state, "ahead", False):
        found = await asyncio.to_thread(store.get, key, name + PROVISIONAL)
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
            summary_from_process(app, view, version)
            persist(app, version, name, view.stats())
        except Exception:  # noqa: BLE001 - a failed background measure is retried on demand
            log.exception("computing the network measures in the background failed")
        finally:
            state.network_completing.discard(token)

    background(app).submit(work)


def summary_from_process(app, view: View, version: Any) -> None:
    """Give `view` its summary computed in the network process, which holds the data of
    `version` if it made it or is given it from disk (after a restart: at 5M triples the
    summary is a minute of Python that would otherwise hold the server's GIL); if it fails,
    the view computes it when asked."""
    process = network_process(app)
    if process is None:
        return
    try:
        found = process.stats(version, view.projection, view.filters)
        if found is None:  # the child did not make this version's data: read back from disk
            store, key = result_store(app), durable_key(app, version)
            pickled = store.get_pickled(key) if store and key else None
            if pickled is not None:
                process.adopt(version, pickled)
                found = process.stats(version, view.projection, view.filters)
    except NetworkProcessError:
        log.exception("the network process could not compute a summary; computing it here")
        return
    if found is not None:
        view.analysis.remember("stats", found)


def background(app) -> Background:
    """The app's thread for long network computations (see `graph.network.persist`)."""
    if getattr(app.state, "network_background", None) is None:
        app.state.network_background = Background()
    return app.state.network_background


async def warm(app) -> None:
    """At start: read the network data (persisted, or from the store), make the default
    summary complete and the default pages, so that the first visitor waits for none of it.

    After a restart with unchanged data whose complete summary is on disk, the data is not read
    back here: the default answers are on disk too (or made from it by `prerender`), and
    unpickling the data (1.3 s at 5M triples, with the GIL held) would only slow the first
    visitors; a view that needs the data reads it then."""
    version = getattr(app.state, "data_version", 0)
    store, key = result_store(app), durable_key(app, version)
    if store and key and await asyncio.to_thread(store.get, key, result_name("stats", {})):
        await prerender(app)
        return
    cache = app_network_cache(app)
    await derived(app).get("network:data", lambda: _load(app))
    version, data = cache.latest()  # type: ignore[misc]
    name = result_name("stats", {})
    store, key = result_store(app), durable_key(app, version)
    if not (store and key and await asyncio.to_thread(store.get, key, name) is not None):
        view = await asyncio.to_thread(cache.view, version, Filters.parse(data), "partner", data)
        await asyncio.to_thread(summary_from_process, app, view, version)
        body = await asyncio.wrap_future(background(app).submit(view.stats))
        await asyncio.to_thread(persist, app, version, name, body)
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


# --- how a picture page fails ---------------------------------------------------------------------


def message_page(status: int, title: str, message: str) -> HTMLResponse:
    body = (f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
            "<p><a href=\"/viz/network\">The whole web</a></p></html>")
    return HTMLResponse(body, status_code=status,
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


class VizRoute(APIRoute):
    """Errors become short pages that name the value at fault (escaped)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except UnknownActor as exc:
                return message_page(404, "Actor not found", str(exc))
            except FilterError as exc:
                return message_page(422, "Filter not understood", str(exc))
            except (QueryTimeout, RuntimeError) as exc:
                return message_page(503, "The graph could not answer", str(exc))

        return guarded
