"""The world web of twinned cities in figures: KONECT-comparable measures per source and three
pictures (matplotlib, PNG), made by `citydip import figures`.

- `world-stats.json`: for each source (the 2016 Wikidata crawl, the Wikipedia list, their union
  with the report's data, and the report alone) the measures KONECT publishes for its "twin"
  network: nodes, edges, average and maximum degree, largest component, diameter and mean
  distance (exact: bounding eccentricities and a breadth-first search from every node),
  clustering (global, i.e. transitivity, which is KONECT's; and the average local one),
  triangles and degree assortativity.
- `degree-distribution.png`: the complementary cumulative degree distribution of each, log-log.
- `world-map.png`: every tie whose two ends have coordinates, as a great-circle arc on a plate
  carrée map, coloured by source.
- `country-network.png`: the union's country network, each country at the mean position of its
  areas, ties weighted by partnerships.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import networkx as nx
import numpy as np

from graph.core.settings import Settings
from graph.network.data import NetworkData, fetch, store_select
from graph.network.measures import (
    degree_assortativity,
    exact_diameter,
    exact_mean_distance,
)
from graph.network.projection import Filters, country_network, partner_network, select
from graph.sparql.catalogue import internal_query
from graph.store.embedded import Store
from graph.store.load import build_store, dataset_paths

if TYPE_CHECKING:
    import pyoxigraph as ox

KONECT = {
    "label": "KONECT twin (Wikidata P190, October 2017)",
    "nodes": 14274, "edges": 20573, "average_degree": 2.88, "max_degree": 99,
    "largest_component": 10320, "diameter": 25, "mean_distance": 7.65,
    "clustering": 0.111, "assortativity": 0.387,
}
"""The published figures of KONECT's "twin" network, for comparison."""
SOURCES = {
    "wikidata-2016": ("Wikidata P190, crawled 2016", "#d95f02"),
    "wikipedia": ("English Wikipedia lists, 2026", "#1b9e77"),
    "union": ("Union (both lists and the report)", "#7570b3"),
    "report": ("Kaohsiung report", "#e7298a"),
}
"""The networks compared: filter value → (legend, colour)."""
FIGURES = ("degree-distribution.png", "world-map.png", "country-network.png")

Say = Callable[[str], None]


def world_data(settings: Settings) -> tuple[Store, NetworkData]:
    """The report and every imported pair list in one in-memory store, and its network data."""
    store = build_store(settings, dataset_paths(settings, ["all"]), Store(None))
    return store, fetch(store_select(store), settings.queries_dir)


def network_of(data: NetworkData, source: str) -> nx.Graph:
    filters = Filters.parse(data, source=[source])
    return partner_network(data, select(data, filters))


def measures(graph: nx.Graph, exact: bool = True) -> dict:
    """The measures KONECT publishes, on the partner network of one source."""
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    largest = components[0] if components else set()
    degrees = [d for _, d in graph.degree()]
    diameter = exact_diameter(graph, largest) if len(largest) > 1 else 0
    if exact or len(largest) <= 2_000:
        mean, how = exact_mean_distance(graph, largest) if len(largest) > 1 else 0.0, "exact"
    else:
        from graph.network.measures import Analysis

        mean, how = Analysis(graph).distances()["mean_distance"], "sampled"
    return {
        "nodes": n, "edges": m,
        "average_degree": 2 * m / n if n else 0.0,
        "max_degree": max(degrees, default=0),
        "components": len(components),
        "largest_component": len(largest),
        "diameter": diameter,
        "mean_distance": mean,
        "mean_distance_method": how,
        "clustering": nx.transitivity(graph),
        "average_clustering": nx.average_clustering(graph) if n else 0.0,
        "triangles": sum(nx.triangles(graph).values()) // 3,
        "assortativity": degree_assortativity(graph),
    }


def coordinates(store: Store, settings: Settings) -> dict[str, tuple[float, float]]:
    """(lat, long) of every party to a partnership that has them, by actor id."""
    from graph.network.data import _short

    text = internal_query(settings.queries_dir, "world/coordinates").text
    found = {}
    for row in cast("ox.QuerySolutions", store.query(text)):  # a SELECT
        found[_short(row["actor"].value)] = (float(row["lat"].value), float(row["long"].value))
    return found


# --- pictures ------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def degree_distribution(graphs: dict[str, nx.Graph], path: Path) -> None:
    """Log-log complementary cumulative degree distribution, one line per source."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=150)
    for source, g in graphs.items():
        degrees = np.array([d for _, d in g.degree()])
        if not len(degrees):
            continue
        values = np.arange(1, degrees.max() + 1)
        ccdf = [(degrees >= k).mean() for k in values]
        label, colour = SOURCES[source]
        ax.step(values, ccdf, where="post", color=colour, linewidth=1.6,
                label=f"{label}: {g.number_of_nodes():,} nodes, max {degrees.max()}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("degree k (partners)")
    ax.set_ylabel("P(degree ≥ k)")
    ax.set_title("Degree distribution of the web of twinned cities")
    ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def great_circle(lat1: float, lon1: float, lat2: float, lon2: float,
                 points: int = 24) -> list[np.ndarray]:
    """The arc between two points as (lon, lat) polylines, cut where it crosses 180°."""
    p1, p2 = (np.radians([lat1, lon1]), np.radians([lat2, lon2]))
    a = np.array([math.cos(p1[0]) * math.cos(p1[1]), math.cos(p1[0]) * math.sin(p1[1]),
                  math.sin(p1[0])])
    b = np.array([math.cos(p2[0]) * math.cos(p2[1]), math.cos(p2[0]) * math.sin(p2[1]),
                  math.sin(p2[0])])
    omega = math.acos(max(-1.0, min(1.0, float(a @ b))))
    if omega < 1e-9:
        return []
    t = np.linspace(0, 1, points)[:, None]
    xyz = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)
    lat = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1, 1)))
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    cuts = np.where(np.abs(np.diff(lon)) > 180)[0] + 1
    return [np.column_stack([lo, la]) for lo, la in zip(np.split(lon, cuts), np.split(lat, cuts),
                                                         strict=True) if len(lo) > 1]


def world_map(data: NetworkData, coords: dict[str, tuple[float, float]], path: Path) -> dict:
    """Every tie with coordinates at both ends, as great-circle arcs; returns what was drawn."""
    plt = _pyplot()
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(14, 7.4), dpi=110)
    ax.set_facecolor("#0b1a2a")
    drawn: dict[str, dict] = {}
    for source in ("wikipedia", "wikidata-2016", "report"):
        if source not in data.sources():
            continue
        label, colour = SOURCES[source]
        segments, ties, missing = [], 0, 0
        for p in select(data, Filters.parse(data, source=[source])):
            ends = [coords.get(a) for a in p.parties[:2]]
            if len(p.parties) != 2 or None in ends:
                missing += 1
                continue
            (la1, lo1), (la2, lo2) = ends  # type: ignore[misc]
            segments.extend(great_circle(la1, lo1, la2, lo2))
            ties += 1
        alpha, width = {"report": (0.9, 0.9), "wikidata-2016": (0.04, 0.35)}.get(
            source, (0.06, 0.35))
        ax.add_collection(LineCollection(segments, colors=colour, alpha=alpha, linewidths=width))
        drawn[source] = {"ties": ties, "left_out": missing}
        ax.plot([], [], color=colour, linewidth=2, label=f"{label}")
    lats = [c[0] for c in coords.values()]
    lons = [c[1] for c in coords.values()]
    ax.scatter(lons, lats, s=0.4, color="#f0f0f0", alpha=0.5, linewidths=0)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.grid(True, color="#335", linewidth=0.3)
    ax.set_title("The web of twinned cities: ties with known coordinates at both ends "
                 "(great-circle arcs)")
    ax.legend(loc="lower left", fontsize=9, facecolor="#ffffff", framealpha=0.85)
    fig.tight_layout()
    fig.savefig(path, facecolor="white", bbox_inches="tight")
    plt.close(fig)
    return drawn


def country_picture(data: NetworkData, coords: dict[str, tuple[float, float]],
                    path: Path, top_labels: int = 40) -> dict:
    """The union's country network, each country at the mean position of its areas."""
    plt = _pyplot()
    from matplotlib.collections import LineCollection

    g = country_network(data, select(data, Filters()))
    where: dict[str, list[tuple[float, float]]] = {}
    for actor in data.actors.values():
        if actor.country and actor.id in coords:
            where.setdefault(actor.country, []).append(coords[actor.id])
    pos = {c: (float(np.mean([p[1] for p in pts])), float(np.mean([p[0] for p in pts])))
           for c, pts in where.items()}
    fig, ax = plt.subplots(figsize=(14, 7.4), dpi=110)
    edges = [(a, b, d["weight"]) for a, b, d in g.edges(data=True) if a in pos and b in pos]
    weights = np.array([w for _, _, w in edges], dtype=float)
    top = weights.max() if len(weights) else 1.0
    order = np.argsort(weights)
    ax.add_collection(LineCollection(
        [[pos[edges[i][0]], pos[edges[i][1]]] for i in order],
        linewidths=0.2 + 3.5 * weights[order] / top, colors="#3b5b92",
        alpha=0.25))
    strength = dict(g.degree(weight="weight"))
    nodes = [c for c in g if c in pos]
    sizes = np.array([strength.get(c, 0) for c in nodes], dtype=float)
    ax.scatter([pos[c][0] for c in nodes], [pos[c][1] for c in nodes],
               s=4 + 300 * sizes / max(sizes.max(), 1), color="#c0392b", alpha=0.8,
               linewidths=0, zorder=3)
    placed: list[tuple[float, float]] = []
    for c in sorted(nodes, key=lambda c: -strength.get(c, 0))[:top_labels]:
        x, y = pos[c]
        if any(abs(x - px) < 9 and abs(y - py) < 2.5 for px, py in placed):
            continue  # a better-connected country's label is already there
        placed.append((x, y))
        ax.annotate(g.nodes[c].get("label") or c, pos[c], fontsize=7, zorder=4,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_aspect("equal")
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.set_title("Country network of the union: countries at the mean position of their areas, "
                 "ties by partnerships between them")
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return {"countries": len(nodes), "ties": len(edges),
            "left_out": g.number_of_nodes() - len(nodes)}


def make_figures(settings: Settings, out_dir: Path, exact: bool = True,
                 say: Say = lambda _: None) -> list[Path]:
    """Compute the measures and draw the pictures into `out_dir`; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    say("loading the report and the imported pair lists")
    store, data = world_data(settings)
    graphs = {s: network_of(data, s) for s in SOURCES if s == "union" or s in data.sources()}
    stats = {}
    for source, g in graphs.items():
        say(f"measuring {source} ({g.number_of_nodes()} nodes)")
        stats[source] = {"label": SOURCES[source][0], **measures(g, exact)}
    coords = coordinates(store, settings)
    say("drawing the degree distribution")
    degree_distribution(graphs, out_dir / FIGURES[0])
    say("drawing the world map")
    drawn = world_map(data, coords, out_dir / FIGURES[1])
    say("drawing the country network")
    countries = country_picture(data, coords, out_dir / FIGURES[2])
    doc = {"konect": KONECT, "sources": stats, "map": drawn, "country_network": countries,
           "note": "diameter and mean distance of the largest component, in hops; clustering "
                   "is the global coefficient (transitivity), as KONECT's"}
    stats_path = out_dir / "world-stats.json"
    stats_path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return [out_dir / f for f in FIGURES] + [stats_path]
