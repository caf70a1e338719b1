"""Starting the derived views with the app: what the store holds, and warming them up.

Why a module of its own: the views live in several route modules (VoID and the front page in
server/describe.py, /health in server/routes/meta.py, the network in server/network_views.py),
and each registers how it follows a write; this is the one place that knows all of them, so
that server/cache.py stays free of routes and the routes free of start-up order.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from graph.sparql.catalogue import catalogue
from graph.write.changes import META_GRAPH
from graph.write.writer import MARKER
from server import describe, dump_links, front_counts, kept_answers, network_views
from server.cache import Kept, derived, reading_ahead
from server.routes import meta

log = logging.getLogger(__name__)


async def start(app) -> None:
    """Register the updaters, note the durable key of the data (embedded store), warm up."""
    keeper = derived(app)
    describe.register(app)
    front_counts.register(app)
    dump_links.register(app)
    meta.register(app)
    backend, settings = app.state.backend, app.state.settings
    keeper.disk = network_views.result_store(app)
    for key in KEPT_ON_DISK:
        keeper.keep_on_disk(key)
    if settings.store_backend == "embedded":
        def opening() -> tuple[int, list]:
            return backend.store.count(), list(
                backend.store.quads_for_pattern(META_GRAPH, MARKER, None, META_GRAPH))

        try:
            triples, marker = await asyncio.to_thread(opening)
        except Exception:  # noqa: BLE001 - no durable key: nothing is persisted, all else works
            log.exception("the store could not be counted at start")
        else:
            keeper.open(triples, marker, ",".join(settings.datasets))
            keeper.kept["triple_count"] = Kept(keeper.current(), triples,
                                               lambda: asyncio.to_thread(backend.store.count))
    if settings.derived_warm:
        app.state.derived_warming = asyncio.get_running_loop().create_task(warm(app))


KEPT_ON_DISK = ("front_page", "statistics:counts", "statistics:entities", "graph_licences")
"""The counts behind /, /browse and VoID, and the graphs' licences they announce: kept beside
the network results per durable version, so that `/` after a restart is read from disk whole."""

WARM_PATHS = ("/health", "/", "/.well-known/void", "/network/stats", "/viz/network")
"""Asked for in-process at start: persisted answers are read, the rest computed, and the
routes' own first-call set-up (FastAPI builds a route's parameter models lazily, ~0.5 s for
the network filters) is paid before any visitor comes. The front page first: its counts take
seconds at world scale, the network's tens, and visitors come to the front page first."""


async def warm(app) -> None:
    """Count what `/` shows (read back from disk if kept), then ask for WARM_PATHS, then
    read the network and make the kept answers. The front page's counts go first and alone:
    `/` waits for them at most CITYDIP_FRONT_PAGE_WAIT and shows the label index's figures
    meanwhile, and until they are done their queries would otherwise share the two query
    workers with VoID's distinct entities, the network read and the kept answers'
    whole-graph queries (server/front_counts.py)."""
    reading_ahead()  # this task's own context: no visitor asked for what it reads
    try:
        await front_counts.count_first(app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://warm.invalid",
                                     timeout=None) as client:
            for path in WARM_PATHS:
                await client.get(path, headers={"Accept": "text/html"})
            for query in catalogue(app.state.settings.queries_dir).values():
                if kept_answers.kept(query):  # their first page waits at most a query's time
                    await client.get(f"/queries/{query.name}", headers={"Accept": "text/html"})
        await network_views.warm(app)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - warming is an optimisation; readers compute on demand
        log.exception("warming the derived views failed")


def stop(app) -> None:
    warming = getattr(app.state, "derived_warming", None)
    if warming is not None:
        warming.cancel()
    derived(app).close()
    worker = getattr(app.state, "network_background", None)
    if worker is not None:
        worker.stop()
    process = getattr(app.state, "network_process", None)
    if process is not None:
        process.close()
