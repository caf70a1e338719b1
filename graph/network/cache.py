"""Network views cached per data version: read the store once, project and measure on demand.

The key is the data version (the server's `app.state.data_version`, the CLI's store digest).
When new data is `put`, the views of the old are dropped; the server keeps serving the old data
until the new has been read in the background (server/network_views.py). Under
one version, each (projection, filters) pair gets one `View` whose measures are computed on
first use; the most recently used views are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import networkx as nx

from graph.network.data import Actor, NetworkData, Partnership, UnknownActor
from graph.network.export import export
from graph.network.measures import Analysis, communities_report, ego, shortest_path, timeline
from graph.network.projection import PROJECTIONS, PROJECTORS, FilterError, Filters, select

MAX_VIEWS = 32


class View:
    """One projection of the data under one set of filters, with its measures."""

    def __init__(self, data: NetworkData, filters: Filters, projection: str = "partner") -> None:
        if projection not in PROJECTORS:
            raise FilterError("projection", f"unknown projection {projection!r}; "
                                            f"use {', '.join(PROJECTIONS)}")
        self.data = data
        self.filters = filters
        self.projection = projection
        self.partnerships: list[Partnership] = select(data, filters)
        self.graph: nx.Graph = PROJECTORS[projection](data, self.partnerships)
        self.analysis = Analysis(self.graph)

    def actor(self, name: str) -> Actor:
        """The actor named (see `NetworkData.resolve`), which must be in this view."""
        if self.projection == "country":
            raise UnknownActor(name, "the country network has countries, not actors")
        return self.data.resolve(name, within=self.graph)

    def about(self) -> dict:
        """What every answer says about where it comes from."""
        def compute() -> dict:
            undated = sum(1 for p in self.partnerships if p.year is None)
            return {"projection": self.projection, "filters": self.filters.to_dict(),
                    "selection": self.filters.describe(),
                    "partnerships": len(self.partnerships), "undated_partnerships": undated}
        return dict(self.analysis.memo("about", compute))

    def stats(self) -> dict:
        return {**self.about(), **self.analysis.stats(),
                "betweenness": self.analysis.betweenness_method(), "pending": []}

    def stats_now(self, background_nodes: int) -> dict:
        """The summary at once: complete for a network of at most `background_nodes` nodes;
        above, the expensive parts only if ready, the others None and listed in `pending`
        (compute them with `analysis.complete()`, off the request)."""
        if self.graph.number_of_nodes() <= background_nodes:
            return self.stats()
        body, pending = self.analysis.partial_stats()
        return {**self.about(), **body, "betweenness": self.analysis.betweenness_method(),
                "pending": pending}

    def top(self, by: str, limit: int) -> dict:
        method = self.analysis.betweenness_method() if by == "betweenness" else {"method": "exact"}
        return {**self.about(), "by": by, "method": method,
                "actors": self.analysis.top(by, limit)}

    def path(self, source: str, target: str) -> dict:
        a, b = self.actor(source), self.actor(target)
        found = shortest_path(self.graph, self.data, a.id, b.id)
        found["nodes"] = [self.analysis.node(n) for n in found["nodes"]]
        return {**self.about(), "from": a.id, "to": b.id, **found}

    def ego(self, centre: str, radius: int = 1) -> tuple[Actor, nx.Graph]:
        actor = self.actor(centre)
        return actor, ego(self.graph, actor.id, radius)

    def communities(self, members: int = 50) -> dict:
        # The full report is made once; each answer lists the first `members` of each.
        full = self.analysis.memo("communities_report",
                                  lambda: communities_report(self.analysis, None))
        cut = [{**c, "members": c["members"][:members]} for c in full["communities"]]
        return {**self.about(), **full, "communities": cut}

    def timeline(self) -> dict:
        return {**self.about(), **self.analysis.memo("timeline",
                                                     lambda: timeline(self.partnerships))}

    def export(self, fmt: str, table: str = "edges") -> bytes:
        """The network as a file (see `graph.network.export`), made once per view."""
        return self.analysis.memo(f"export:{fmt}:{table}",
                                  lambda: export(self.graph, fmt, table))


class NetworkCache:
    """The data of the current version and its most recently used views (thread-safe)."""

    def __init__(self, max_views: int = MAX_VIEWS) -> None:
        self.max_views = max_views
        self.version: Hashable | None = None
        self._data: NetworkData | None = None
        self._views: OrderedDict[tuple[str, Filters], View] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self.fetches = 0
        """How many times the store was read (for tests and benchmarks)."""

    def data(self, version: Hashable) -> NetworkData | None:
        """The data of this version, if it has been read."""
        with self._lock:
            return self._data if self.version == version else None

    def put(self, version: Hashable, data: NetworkData) -> None:
        with self._lock:
            if self.version != version:
                self._views.clear()
                self._building.clear()
            self.version, self._data = version, data
            self.fetches += 1

    def latest(self) -> tuple[Hashable, NetworkData] | None:
        """The version and data read last, whatever the current version is."""
        with self._lock:
            return None if self._data is None else (self.version, self._data)

    def adopt(self, version: Hashable, view: View) -> None:
        """Keep a view made beforehand (on this version's data) as if it had been asked for."""
        with self._lock:
            if self.version == version and self._data is view.data:
                self._views[(view.projection, view.filters)] = view

    def load(self, version: Hashable, fetch: Callable[[], NetworkData]) -> NetworkData:
        """The data of this version, read with `fetch` if it has not been yet."""
        data = self.data(version)
        if data is None:
            data = fetch()
            self.put(version, data)
        return data

    def view(self, version: Hashable, filters: Filters, projection: str = "partner",
             data: NetworkData | None = None) -> View:
        """The view for these filters; the data of `version` must have been `put` first, or
        be given (`data`: a view of data replaced meanwhile is made, not kept)."""
        key = (projection, filters)
        with self._lock:
            if self.version != version or self._data is None:
                if data is None:
                    raise LookupError(f"no network data for version {version!r}")
                return View(data, filters, projection)
            data = self._data
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
            building = self._building.setdefault(key, threading.Lock())
        with building:  # concurrent first requests for the same view build it once
            with self._lock:
                found = self._views.get(key) if self._data is data else None
            if found is not None:
                return found
            made = View(data, filters, projection)
            with self._lock:
                if self._data is data:
                    self._views[key] = made
                    while len(self._views) > self.max_views:
                        self._views.popitem(last=False)
            return made

