"""Measures of a partnership network: centrality, cohesion, communities, distances, growth.

Everything is networkx's own algorithms (PageRank and assortativity through its numpy/scipy
implementations). Distances count hops: a weight is
a tie's strength, not a length. What is expensive on a large graph is estimated with a fixed
seed above a size limit, and the output says so (`method`), so that two runs agree.

One module over 400 lines on purpose: `Analysis` keeps every measure in one memo under one lock
and one seed, and the summary, its background completion and the per-actor answers all read that
memo; the functions after it are the few measures it calls, kept beside their one caller.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, cast

import networkx as nx
import numpy as np

from graph.network.data import NetworkData, Partnership

SEED = 42
EXACT_LIMIT = 2_000
"""Above this many nodes, betweenness and distances are estimated from sampled sources."""
SAMPLES = 100
"""Sources sampled for betweenness and mean distance on large graphs."""
EXPENSIVE = {"communities": "modularity", "largest_component": "distances"}
"""Parts of the summary that a large network computes in the background: summary key -> the
measure (memo name) that makes it ready."""
MEASURES = ("degree", "weighted_degree", "betweenness", "pagerank", "clustering", "core")
"""The per-actor measures `top` can rank by."""


class Analysis:
    """The measures of one network, each computed once on first use (thread-safe)."""

    def __init__(self, graph: nx.Graph, *, seed: int = SEED, exact_limit: int = EXACT_LIMIT,
                 samples: int = SAMPLES) -> None:
        self.graph = graph
        self.seed = seed
        self.exact_limit = exact_limit
        self.samples = samples
        self._memo: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time `name` is asked for, the remembered value after."""
        if name in self._memo:
            return self._memo[name]
        with self._guard:
            lock = self._locks[name]
        with lock:  # one computation per measure, however many requests ask at once
            if name not in self._memo:
                self._memo[name] = compute()
        return self._memo[name]

    def remember(self, name: str, value: Any) -> None:
        """Take `name`'s value as computed elsewhere (graph.network.process, on the same data)."""
        with self._guard:
            self._memo.setdefault(name, value)

    def computed(self) -> list[str]:
        return sorted(self._memo)

    # --- per actor -----------------------------------------------------------------------------

    def degree(self) -> dict[str, int]:
        return self.memo("degree", lambda: dict(self.graph.degree()))

    def weighted_degree(self) -> dict[str, int]:
        return self.memo("weighted_degree", lambda: dict(self.graph.degree(weight="weight")))

    def betweenness(self) -> dict[str, float]:
        return self.memo("betweenness", self._betweenness)[0]

    def betweenness_method(self) -> dict:
        """How betweenness is (or will be) computed: exact, or sampled with a fixed seed."""
        n = self.graph.number_of_nodes()
        if n <= self.exact_limit:
            return {"method": "exact"}
        k = min(self.samples, n)
        return {"method": "sampled", "k": k, "seed": self.seed,
                "note": f"estimated from {k} sampled sources (graph above {self.exact_limit} "
                        "nodes)"}

    def _betweenness(self) -> tuple[dict[str, float], dict]:
        method = self.betweenness_method()
        if method["method"] == "exact":
            return nx.betweenness_centrality(self.graph, normalized=True), method
        values = nx.betweenness_centrality(self.graph, k=method["k"], normalized=True,
                                           seed=self.seed)
        return values, method

    def pagerank(self) -> dict[str, float]:
        return self.memo("pagerank", lambda: pagerank(self.graph))

    def clustering(self) -> dict[str, float]:
        return self.memo("clustering", lambda: nx.clustering(self.graph))

    def core(self) -> dict[str, int]:
        return self.memo("core", lambda: nx.core_number(self.graph))

    def measure(self, name: str) -> dict[str, float]:
        if name not in MEASURES:
            raise ValueError(f"unknown measure {name!r}; use {', '.join(MEASURES)}")
        return getattr(self, name)()

    # --- whole graph ---------------------------------------------------------------------------

    def components(self) -> list[set[str]]:
        """Connected components, largest first (ties by their smallest node, for stability)."""
        return self.memo("components", lambda: sorted(
            nx.connected_components(self.graph), key=lambda c: (-len(c), min(c))))

    def component_of(self) -> dict[str, int]:
        return self.memo("component_of", lambda: {
            n: i for i, comp in enumerate(self.components()) for n in comp})

    def communities(self) -> list[set[str]]:
        """Louvain communities (weighted, fixed seed), largest first."""
        def compute() -> list[set[str]]:
            if self.graph.number_of_edges() == 0:
                return [{n} for n in sorted(self.graph)]
            found = nx.community.louvain_communities(self.graph, weight="weight", seed=self.seed)
            return sorted(found, key=lambda c: (-len(c), min(c)))
        return self.memo("communities", compute)

    def community_of(self) -> dict[str, int]:
        return self.memo("community_of", lambda: {
            n: i for i, comm in enumerate(self.communities()) for n in comm})

    def modularity(self) -> float | None:
        def compute() -> float | None:
            if self.graph.number_of_edges() == 0:
                return None
            return nx.community.modularity(self.graph, self.communities(), weight="weight")
        return self.memo("modularity", compute)

    def assortativity(self) -> dict[str, float | None]:
        def compute() -> dict[str, float | None]:
            return {"degree": degree_assortativity(self.graph),
                    "class": attribute_assortativity(self.graph, "cls"),
                    "country": attribute_assortativity(self.graph, "country")}
        return self.memo("assortativity", compute)

    def distances(self) -> dict:
        """Diameter and mean distance (hops) of the largest component."""
        return self.memo("distances", self._distances)

    def _distances(self) -> dict:
        comps = self.components()
        if not comps:
            return {"nodes": 0, "diameter": None, "mean_distance": None, "method": "exact"}
        # A search from a node of the largest component stays in it: no subgraph view needed
        # (views make every neighbour lookup several times slower).
        sub, largest = self.graph, comps[0]
        n = len(largest)
        if n == 1:
            return {"nodes": 1, "diameter": 0, "mean_distance": 0.0, "method": "exact"}
        if n <= self.exact_limit:
            eccentricity, total, pairs = 0, 0, 0
            for source in sorted(largest):
                lengths = nx.single_source_shortest_path_length(sub, source)
                eccentricity = max(eccentricity, max(lengths.values()))
                total += sum(lengths.values())
                pairs += len(lengths) - 1
            return {"nodes": n, "diameter": eccentricity, "mean_distance": total / pairs,
                    "method": "exact"}
        # Breadth-first searches from sampled sources give the mean distance, and their
        # farthest nodes start double sweeps whose eccentricities bound the diameter from below.
        rng = random.Random(self.seed)
        sources = rng.sample(sorted(largest), min(self.samples, n))
        total, pairs, diameter, far = 0, 0, 0, sources[0]
        for s in sources:
            lengths = nx.single_source_shortest_path_length(sub, s)
            total += sum(lengths.values())
            pairs += len(lengths) - 1
            node, ecc = max(lengths.items(), key=lambda kv: kv[1])
            if ecc > diameter:
                diameter, far = ecc, node
        for _ in range(4):
            lengths = nx.single_source_shortest_path_length(sub, far)
            far, ecc = max(lengths.items(), key=lambda kv: kv[1])
            if ecc <= diameter:
                break
            diameter = ecc
        # The exact diameter by bounding eccentricities (Takes & Kosters 2011, networkx's
        # `usebounds`): a few dozen searches on sparse real-world graphs, not one per node.
        exact = exact_diameter(sub, largest)
        return {"nodes": n, "diameter": exact if exact is not None else diameter,
                "diameter_method": "exact" if exact is not None else "lower bound",
                "mean_distance": total / pairs, "method": "estimated",
                "note": ("diameter exact (bounding eccentricities)" if exact is not None else
                         f"diameter is a lower bound (largest eccentricity found from "
                         f"{len(sources)} sampled sources and double sweeps)")
                        + f"; mean distance averaged over {len(sources)} sampled sources "
                          f"(seed {self.seed})"}

    def stats(self) -> dict:
        """The summary of the whole network."""
        return self.memo("stats", self._stats)

    def ready(self, name: str) -> bool:
        """Whether the measure `name` has been computed."""
        return name in self._memo

    def partial_stats(self) -> tuple[dict, list[str]]:
        """The summary with the cheap measures computed now and the expensive ones
        (EXPENSIVE) only where they are ready: those pending are None and named in the list."""
        if self.ready("stats"):
            return self.stats(), []
        pending = [name for name in EXPENSIVE if not self.ready(EXPENSIVE[name])]
        body = self.memo("cheap_stats", self._cheap_stats)
        if "communities" not in pending:
            body = {**body, "communities": self._community_summary()}
        if "largest_component" not in pending:
            body = {**body, "largest_component": self.distances()}
        for name in pending:
            body = {**body, name: None}
        return body, pending

    def complete(self) -> dict:
        """Compute the expensive measures (for a background thread); the full summary."""
        self.modularity()
        self.distances()
        return self.stats()

    def _community_summary(self) -> dict:
        return {"count": len(self.communities()), "modularity": self.modularity(),
                "method": "louvain", "seed": self.seed}

    def _stats(self) -> dict:
        return {**self.memo("cheap_stats", self._cheap_stats),
                "communities": self._community_summary(),
                "largest_component": self.distances()}

    def _cheap_stats(self) -> dict:
        g = self.graph
        comps = self.components()
        cores = self.core()
        k_max = max(cores.values(), default=0)
        degrees = [d for _, d in g.degree()]
        return {
            "nodes": g.number_of_nodes(),
            "edges": g.number_of_edges(),
            "degree": {"average": 2 * g.number_of_edges() / len(g) if len(g) else 0.0,
                       "max": max(degrees, default=0)},
            "triangles": sum(nx.triangles(g).values()) // 3,
            "weight": int(g.size(weight="weight")),
            "density": nx.density(g) if g.number_of_nodes() > 1 else 0.0,
            "components": {"count": len(comps), "largest": len(comps[0]) if comps else 0,
                           "sizes": [len(c) for c in comps[:10]]},
            "clustering": {"average": nx.average_clustering(g) if len(g) else 0.0,
                           "transitivity": nx.transitivity(g)},
            "core": {"max_k": k_max, "main_core_size": sum(1 for k in cores.values() if k == k_max),
                     "main_core": sorted(n for n, k in cores.items() if k == k_max)[:50]},
            "assortativity": self.assortativity(),
        }

    def top(self, by: str, limit: int = 10) -> list[dict]:
        """The actors ranked by a measure (ties by degree, then id)."""
        values = self.measure(by)
        degree = self.degree()
        ranked = sorted(values, key=lambda n: (-values[n], -degree[n], n))[:max(0, limit)]
        return [{"rank": i + 1, **self.node(n), by: values[n]} for i, n in enumerate(ranked)]

    def node(self, n: str) -> dict:
        attrs = self.graph.nodes[n]
        return {"id": n, "label": attrs.get("label", n), "label_zh": attrs.get("label_zh", ""),
                "class": attrs.get("cls", ""), "country": attrs.get("country", "")}

    def actor(self, n: str) -> dict:
        """Every measure of one actor."""
        return {**self.node(n), "degree": self.degree()[n],
                "weighted_degree": self.weighted_degree()[n],
                "betweenness": self.betweenness()[n], "pagerank": self.pagerank()[n],
                "clustering": self.clustering()[n], "core": self.core()[n],
                "community": self.community_of()[n], "component": self.component_of()[n],
                "betweenness_method": self.betweenness_method()}


# --- paths, neighbourhoods, growth -----------------------------------------------------------

def shortest_path(graph: nx.Graph, data: NetworkData, source: str, target: str,
                  alternatives_cap: int = 100) -> dict:
    """A shortest path (hops) between two actors, with the partnerships of each hop."""
    if source == target:
        return {"connected": True, "length": 0, "nodes": [source], "hops": [],
                "alternatives": 1}
    try:
        nodes = nx.shortest_path(graph, source, target)
    except nx.NetworkXNoPath:
        return {"connected": False, "length": None, "nodes": [], "hops": [], "alternatives": 0}
    count = 0
    for _ in nx.all_shortest_paths(graph, source, target):
        count += 1
        if count >= alternatives_cap:
            break
    hops = []
    for a, b in zip(nodes, nodes[1:], strict=False):
        edge = graph.edges[a, b]
        hops.append({"from": a, "to": b, "weight": edge.get("weight", 1),
                     "partnerships": [data.partnerships[p].to_dict()
                                      for p in edge.get("partnerships", ())
                                      if p in data.partnerships]})
    return {"connected": True, "length": len(nodes) - 1, "nodes": nodes, "hops": hops,
            "alternatives": count, "alternatives_capped": count >= alternatives_cap}


def ego(graph: nx.Graph, centre: str, radius: int = 1) -> nx.Graph:
    """The actors within `radius` hops of `centre`, with the ties among them."""
    sub = nx.ego_graph(graph, centre, radius=radius)
    hops = nx.single_source_shortest_path_length(sub, centre)
    for n in sub:
        sub.nodes[n]["distance"] = hops[n]
    return sub


def timeline(partnerships: list[Partnership]) -> dict:
    """How the partner web grew: nodes, edges and components as of each year.

    Dated partnerships only, cumulative (the web as of a year holds everything dated up to it);
    how many are undated is given beside.
    """
    dated = sorted((p for p in partnerships if p.year is not None),
                   key=lambda p: cast(int, p.year))  # the undated are left out
    web = nx.Graph()
    rows = []
    per_year: dict[int, list[Partnership]] = defaultdict(list)
    for p in dated:
        per_year[p.year].append(p)  # type: ignore[index]
    for year in sorted(per_year):
        before = web.number_of_nodes()
        for p in per_year[year]:
            web.add_nodes_from(p.parties)
            web.add_edges_from((a, b) for i, a in enumerate(p.parties) for b in p.parties[i + 1:])
        rows.append({"year": year, "partnerships": len(per_year[year]),
                     "new_actors": web.number_of_nodes() - before,
                     "nodes": web.number_of_nodes(), "edges": web.number_of_edges(),
                     "components": nx.number_connected_components(web)})
    return {"years": rows, "undated": len(partnerships) - len(dated),
            "note": "cumulative: each year holds every partnership dated up to it; undated "
                    "partnerships are not placed on the timeline"}


def communities_report(analysis: Analysis, limit_members: int | None = 50) -> dict:
    """The communities with their size, main countries and members (best-connected first)."""
    graph = analysis.graph
    degree = analysis.degree()
    out = []
    for i, comm in enumerate(analysis.communities()):
        members = sorted(comm, key=lambda n: (-degree[n], n))
        countries = Counter(graph.nodes[n].get("country", "") for n in comm)
        out.append({"id": i, "size": len(comm),
                    "top_countries": [c for c, _ in countries.most_common(3) if c],
                    "members": [analysis.node(n) for n in members[:limit_members]]})
    return {"method": "louvain", "seed": analysis.seed, "modularity": analysis.modularity(),
            "count": len(out), "communities": out}


# --- distances of large components ----------------------------------------------------------

EXACT_DIAMETER_LIMIT = 200_000
"""Largest component for which the exact diameter is computed by bounding eccentricities."""


def exact_diameter(graph: nx.Graph, nodes: set[str]) -> int | None:
    """The exact diameter of the connected `nodes` (bounding eccentricities), None if too big."""
    if len(nodes) > EXACT_DIAMETER_LIMIT:
        return None
    return nx.diameter(graph.subgraph(nodes).copy(), usebounds=True)


def exact_mean_distance(graph: nx.Graph, nodes: set[str], chunk: int = 1_000) -> float:
    """The mean hop distance over all ordered pairs of the connected `nodes`: a breadth-first
    search from every node (scipy's csgraph, in chunks of sources to bound memory). Seconds
    for ten thousand nodes, a minute for twenty thousand."""
    from scipy.sparse.csgraph import shortest_path

    order = sorted(nodes)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=order, weight=None, format="csr")
    n, total = len(order), 0.0
    for start in range(0, n, chunk):
        found = shortest_path(matrix, method="D", directed=False, unweighted=True,
                              indices=np.arange(start, min(n, start + chunk)))
        total += float(found.sum())
    return total / (n * (n - 1)) if n > 1 else 0.0


# --- networkx measures that can be undefined ------------------------------------------------

def pagerank(graph: nx.Graph) -> dict[str, float]:
    """Weighted PageRank (networkx, alpha 0.85)."""
    return nx.pagerank(graph, weight="weight") if len(graph) else {}


def degree_assortativity(graph: nx.Graph) -> float | None:
    """Degree assortativity (Pearson), or None where it is undefined (no edges, equal degrees)."""
    return _defined(lambda: nx.degree_assortativity_coefficient(graph))


def attribute_assortativity(graph: nx.Graph, attribute: str) -> float | None:
    """Newman's assortativity of a categorical attribute: do like ties with like?

    networkx's own orders the mixing matrix by iterating a set of the values, which follows the
    process's string hashing: the last digits then differ between processes (the server's and
    graph.network.process's, or two runs). Here the values are in sorted order."""
    from networkx.algorithms.assortativity.correlation import attribute_ac
    from networkx.utils import dict_to_numpy_array

    def compute() -> float:
        mixing = nx.attribute_mixing_dict(graph, attribute)  # what attribute_mixing_matrix does
        values = set(mixing).union(*mixing.values())
        mapping = {v: i for i, v in enumerate(sorted(values, key=str))}
        matrix = dict_to_numpy_array(mixing, mapping=mapping)
        return attribute_ac(matrix / matrix.sum())
    return _defined(compute)


def _defined(compute: Callable[[], float]) -> float | None:
    try:
        with np.errstate(all="ignore"):
            value = compute()
    except (ZeroDivisionError, ValueError, nx.NetworkXError):
        return None
    return None if value is None or math.isnan(value) else float(value)
