"""Pictures of the partnership web: vis-network data built with pyvis, rendered by our template.

pyvis holds the nodes, edges and options (filled list by list: its `add_edge` checks every
existing edge, minutes for tens of thousands); its own template is not used, because it loads
bootstrap and vis-network from CDNs and writes `heading` and its menus into the page unescaped.
Our template (`templates/viz/picture.html`, beside this module) loads vis-network from the
server's `/static/vendor/` or, for a standalone file, inlines it; the data travels as JSON in a
`<script type="application/json">` block with `<`, `>` and `&` escaped, and tooltips are built
as DOM text in the browser, so no text from the data is ever parsed as HTML.

Above a node budget the picture keeps the actors with the most partners (or shows the country
network) and says so on the page, so that a browser never has to lay out the whole web.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pyvis.network import Network

from graph.core.namespaces import ID
from graph.network.cache import View
from graph.network.measures import shortest_path

# The page template and the vendored vis-network live beside this module, so that the CLI's
# standalone pictures and the server's pages render the same files without graph/ importing server/.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"

NODE_BUDGET = 1_500
EDGE_BUDGET = 6_000
PICTURE_BYTES = 900_000
"""What the nodes and ties of a whole-web picture may weigh in its page by default
(CITYDIP_PICTURE_MAX_BYTES), so that a page stays under 1 MB. At a million triples the 1,500
best-connected actors and their 6,000 strongest ties, each tie listing up to 8 partnerships
for its hover box, came to 3 MB; over the budget the hover lists are left out (the count
stays), then the weakest ties."""
TIP_PARTNERSHIPS = 8
PICTURE_KINDS = ("network", "ego", "path", "countries")
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#17becf", "#bcbd22", "#8c564b"]
CLASS_COLOURS = {
    "City": "#4e79a7", "County": "#a0cbe8", "Prefecture": "#76b7b2", "State": "#17becf",
    "Territory": "#59a14f", "Country": "#8cd17d", "AdministrativeArea": "#86bcb6",
    "GovernmentAgency": "#f28e2b", "School": "#e15759", "University": "#b07aa1",
    "Port": "#9c755f", "RepresentativeOffice": "#ff9da7", "SciencePark": "#edc948",
    "Council": "#bab0ac", "Team": "#d4a6c8", "Programme": "#fabfd2", "Organization": "#ffbe7d",
    "ActorGroup": "#d7b5a6", "Person": "#79706e",
}
OTHER_COLOUR = "#9d9d9d"
KIND_STYLES: dict[str, tuple[str, bool | list[int]]] = {
    # kind id: (colour, dashes) — the first kind of an edge in this order sets its style
    "sister-city-agreement": ("#c0392b", False),
    "sister-city-relation": ("#c0392b", [2, 4]),
    "friendship-city-agreement": ("#e67e22", False),
    "friendship-city-relation": ("#e67e22", [2, 4]),
    "friendship-declaration": ("#f1c40f", [10, 4]),
    "port-cooperation-agreement": ("#16a085", False),
    "sister-school-agreement": ("#8e44ad", False),
    "sister-school-relation": ("#8e44ad", [2, 4]),
    "memorandum-of-understanding": ("#2980b9", [8, 4]),
    "mou-city-relation": ("#2980b9", [2, 4]),
    "letter-of-intent": ("#27ae60", [4, 4]),
    "partner-city-relation": ("#7f8c8d", [2, 4]),
}
OTHER_KIND_STYLE = ("#95a5a6", [6, 3])


@dataclass
class Picture:
    """Everything a picture page shows: vis-network data, legend, notes, counts."""

    kind: str
    title: str
    nodes: list[dict]
    edges: list[dict]
    options: dict
    legend: dict
    notes: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    """Counts of the network drawn and of the network it was cut from."""
    details: list[dict] = field(default_factory=list)
    """Extra rows shown under the picture (the hops of a path)."""

    def data(self) -> dict:
        return {"kind": self.kind, "nodes": self.nodes, "edges": self.edges,
                "options": self.options, "summary": self.summary}


def script_json(value: object) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>` or `&` can end or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --- building pictures ----------------------------------------------------------------------

class _Builder:
    """Turns (part of) a view's graph into vis-network nodes and edges through pyvis."""

    def __init__(self, view: View, color_by: str = "class", links: str | None = "/id/") -> None:
        if color_by not in ("class", "community"):
            raise ValueError(f"unknown colouring {color_by!r}; use class or community")
        self.view = view
        self.data = view.data
        self.color_by = color_by
        self.links = links
        self.net = Network(height="100%", width="100%", directed=False, cdn_resources="local")
        self.classes: dict[str, str] = {}
        self.communities: dict[int, str] = {}
        self.kinds: set[str] = set()

    def colour(self, n: str, attrs: dict) -> str:
        if self.color_by == "community":
            comm = self.view.analysis.community_of().get(n, -1)
            colour = PALETTE[comm % len(PALETTE)] if comm >= 0 else OTHER_COLOUR
            self.communities[comm] = colour
            return colour
        cls = attrs.get("cls") or "Other"
        colour = CLASS_COLOURS.get(cls, OTHER_COLOUR)
        self.classes[cls] = colour
        return colour

    def add_nodes(self, graph: nx.Graph, nodes: list[str], highlight: Collection[str] = ()
                  ) -> None:
        degree = self.view.analysis.degree()
        weighted = self.view.analysis.weighted_degree()
        for n in nodes:
            attrs = graph.nodes[n]
            country = self.data.countries.get(attrs.get("country", ""))
            cls_term = self.data.classes.get(attrs.get("cls", ""))
            colour = self.colour(n, attrs)
            node: dict[str, Any] = {
                "id": n, "label": attrs.get("label") or n, "shape": "dot",
                "value": degree.get(n, 0) + 1, "color": colour,
                "url": self.links + n if self.links is not None and "://" not in n else None,
                "tip": {"label": attrs.get("label", ""), "label_zh": attrs.get("label_zh", ""),
                        "class": cls_term.label_en if cls_term else attrs.get("cls", ""),
                        "country": country.label_en if country else attrs.get("country", ""),
                        "degree": degree.get(n, 0), "weighted_degree": weighted.get(n, 0)},
            }
            if n in highlight:
                node.update(borderWidth=4, color={"background": colour, "border": "#111111"})
            if "distance" in attrs:
                node["tip"]["distance"] = attrs["distance"]
            self.net.nodes.append(node)
            self.net.node_ids.append(n)
            self.net.node_map[n] = node

    def add_edges(self, graph: nx.Graph, edges: list[tuple[str, str]],
                  highlight: Collection[frozenset] = (), tips: int = TIP_PARTNERSHIPS) -> None:
        for a, b in edges:
            attrs = graph.edges[a, b]
            kinds = attrs.get("kinds", [])
            style_kind = next((k for k in KIND_STYLES if k in kinds), kinds[0] if kinds else "")
            colour, dashes = KIND_STYLES.get(style_kind, OTHER_KIND_STYLE)
            self.kinds.add(style_kind)
            ids = attrs.get("partnerships", [])
            shown = [self.data.partnerships[p] for p in ids[:tips] if p in self.data.partnerships]
            edge = {
                "from": a, "to": b, "value": attrs.get("weight", 1), "dashes": dashes,
                "color": {"color": colour, "highlight": "#111111"},
                "tip": {"ends": [graph.nodes[a].get("label", a), graph.nodes[b].get("label", b)],
                        "weight": attrs.get("weight", 1),
                        "partnerships": [
                            {"label": p.label_en, "label_zh": p.label_zh, "date": p.date,
                             "kinds": [self.kind_label(k) for k in p.kinds]} for p in shown],
                        "more": max(0, len(ids) - len(shown))},
            }
            if frozenset((a, b)) in highlight:
                del edge["value"]  # a value would scale the width back down
                edge["width"] = 6
            self.net.edges.append(edge)

    def kind_label(self, kind: str) -> str:
        term = self.data.kinds.get(kind)
        return term.label_en if term and term.label_en else kind

    def options(self, nodes: int) -> dict:
        big = nodes > 300
        return {
            "autoResize": True,
            "layout": {"improvedLayout": not big, "randomSeed": 7},
            "nodes": {"scaling": {"min": 6, "max": 40, "label": {"enabled": True, "min": 10,
                                                                     "max": 24}},
                      "font": {"size": 12}},
            "edges": {"smooth": False, "scaling": {"min": 1, "max": 8},
                      "color": {"inherit": False}},
            "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": big,
                            "navigationButtons": False, "keyboard": False},
            "physics": {"solver": "forceAtlas2Based", "forceAtlas2Based": {
                "gravitationalConstant": -60, "springLength": 90, "avoidOverlap": 0.2},
                "stabilization": {"enabled": True, "iterations": 150 if big else 400,
                                  "updateInterval": 25, "fit": True}},
        }

    def legend(self) -> dict:
        nodes = ([{"label": f"community {c + 1}" if c >= 0 else "other", "colour": colour}
                  for c, colour in sorted(self.communities.items())[:len(PALETTE)]]
                 if self.color_by == "community" else
                 [{"label": self.data.classes[c].label_en if c in self.data.classes else c,
                   "label_zh": self.data.classes[c].label_zh if c in self.data.classes else "",
                   "colour": colour} for c, colour in sorted(self.classes.items())])
        edges = []
        for kind in [k for k in KIND_STYLES if k in self.kinds] + sorted(
                k for k in self.kinds if k not in KIND_STYLES):
            colour, dashes = KIND_STYLES.get(kind, OTHER_KIND_STYLE)
            term = self.data.kinds.get(kind)
            edges.append({"label": term.label_en if term else (kind or "other"),
                          "label_zh": term.label_zh if term else "", "colour": colour,
                          "dashes": dashes})
        if self.color_by == "community" and len(self.communities) > len(PALETTE):
            nodes.append({"label": f"and {len(self.communities) - len(PALETTE)} smaller "
                                   "communities (colours repeat)", "colour": OTHER_COLOUR})
        return {"colour_by": self.color_by, "nodes": nodes, "edges": edges,
                "size": "node size: number of partners (degree)"}

    def picture(self, kind: str, title: str, notes: list[str], summary: dict) -> Picture:
        nodes, edges, _heading, _height, _width, options = self.net.get_network_data()
        return Picture(kind, title, nodes, edges, json.loads(options) if isinstance(
            options, str) else options, self.legend(), notes, summary)


def _cut(graph: nx.Graph, view: View, budget: int, edge_budget: int, keep: Collection[str] = ()
         ) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Nodes and edges to draw: all of them, or the best-connected within the budgets."""
    notes = []
    degree = view.analysis.degree()
    nodes = list(graph)
    if len(nodes) > budget:
        ranked = sorted(graph, key=lambda n: (n not in keep, -degree.get(n, 0), n))
        nodes = ranked[:budget]
        notes.append(f"This network has {graph.number_of_nodes():,} actors and "
                     f"{graph.number_of_edges():,} ties, more than a browser can lay out: the "
                     f"picture shows the {budget:,} actors with the most partners and the ties "
                     "among them. Narrow it with the filters, or see it by country.")
    chosen = set(nodes)
    edges = [(a, b) for a, b in graph.edges(chosen) if a in chosen and b in chosen]
    if len(edges) > edge_budget:
        edges.sort(key=lambda e: (-graph.edges[e].get("weight", 1), e))
        notes.append(f"Of the {len(edges):,} ties among them, the {edge_budget:,} strongest "
                     "are drawn.")
        edges = edges[:edge_budget]
    return nodes, edges, notes


def _summary(view: View, graph: nx.Graph, nodes: list, edges: list) -> dict:
    return {"nodes": len(nodes), "edges": len(edges), "total_nodes": graph.number_of_nodes(),
            "total_edges": graph.number_of_edges(), "cut": len(nodes) < graph.number_of_nodes()
            or len(edges) < graph.number_of_edges(), "selection": view.filters.describe(),
            "partnerships": len(view.partnerships)}


def network_picture(view: View, *, color_by: str = "class", links: str | None = "/id/",
                    budget: int = NODE_BUDGET, edge_budget: int = EDGE_BUDGET,
                    max_bytes: int = PICTURE_BYTES) -> Picture:
    """The whole (filtered) partner web, its data within `max_bytes` (see PICTURE_BYTES)."""
    builder = _Builder(view, color_by, links)
    nodes, edges, notes = _cut(view.graph, view, budget, edge_budget)
    builder.add_nodes(view.graph, nodes)
    builder.add_edges(view.graph, edges)
    edges = _within_page(builder, view.graph, edges, notes, max_bytes)
    builder.net.options = builder.options(len(nodes))
    return builder.picture("network", "The web of partnerships", notes,
                           _summary(view, view.graph, nodes, edges))


def _weight(items: list[dict]) -> int:
    return len(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode())


def _within_page(builder: _Builder, graph: nx.Graph, edges: list[tuple[str, str]],
                 notes: list[str], limit: int) -> list[tuple[str, str]]:
    """Keep the picture's data under `limit` bytes; returns the ties drawn."""
    nodes_size = _weight(builder.net.nodes)
    if nodes_size + _weight(builder.net.edges) <= limit:
        return edges
    builder.net.edges = []
    builder.add_edges(graph, edges, tips=0)
    notes.append("So large a picture leaves out the list of partnerships in each tie's hover "
                 "box (the count stays); an actor's own picture lists them.")
    if nodes_size + _weight(builder.net.edges) > limit and edges:
        # The strongest ties first, each counted at its own size (and a comma), while they fit.
        room = limit - nodes_size - 2
        ranked = sorted(range(len(edges)),
                        key=lambda i: (-graph.edges[edges[i]].get("weight", 1), i))
        kept: list[int] = []
        for i in ranked:
            room -= _weight([builder.net.edges[i]]) - 1  # its bytes and a comma, not brackets
            if room < 0:
                break
            kept.append(i)
        chosen = sorted(kept)
        notes.append(f"Of the {len(edges):,} ties among them, the {len(chosen):,} strongest are "
                     "drawn (the page would be too large for all).")
        builder.net.edges = [builder.net.edges[i] for i in chosen]
        edges = [edges[i] for i in chosen]
    return edges


def ego_picture(view: View, centre: str, radius: int = 1, *, color_by: str = "class",
                links: str | None = "/id/", budget: int = NODE_BUDGET,
                edge_budget: int = EDGE_BUDGET) -> Picture:
    """An actor and the actors within `radius` hops of it."""
    actor, sub = view.ego(centre, radius)
    builder = _Builder(view, color_by, links)
    nodes, edges, notes = _cut(sub, view, budget, edge_budget, keep={actor.id})
    builder.add_nodes(sub, nodes, highlight={actor.id})
    builder.add_edges(sub, edges)
    builder.net.options = builder.options(len(nodes))
    title = f"Partners of {actor.label}" + (f" · {actor.label_zh}" if actor.label_zh else "")
    if radius > 1:
        title += f" (within {radius} hops)"
    return builder.picture("ego", title, notes, {**_summary(view, sub, nodes, edges),
                                                 "centre": actor.id, "radius": radius})


def path_picture(view: View, source: str, target: str, *, color_by: str = "class",
                 links: str | None = "/id/") -> Picture:
    """A shortest chain of partnerships from one actor to another."""
    a, b = view.actor(source), view.actor(target)
    found = shortest_path(view.graph, view.data, a.id, b.id)
    builder = _Builder(view, color_by, links)
    nodes = found["nodes"]
    pairs = list(zip(nodes, nodes[1:], strict=False))
    builder.add_nodes(view.graph, nodes or [a.id, b.id], highlight={a.id, b.id})
    builder.add_edges(view.graph, pairs, highlight={frozenset(p) for p in pairs})
    builder.net.options = builder.options(len(nodes))
    notes = [] if found["connected"] else [
        f"{a.label} and {b.label} are not connected under these filters."]
    if found.get("alternatives", 0) > 1:
        more = "at least " if found.get("alternatives_capped") else ""
        notes.append(f"One of {more}{found['alternatives']} shortest paths is shown.")
    title = f"From {a.label} to {b.label}"
    picture = builder.picture("path", title, notes, {
        **_summary(view, view.graph, nodes or [a.id, b.id], pairs), "from": a.id, "to": b.id,
        "length": found["length"]})
    picture.details = [{"from": view.graph.nodes[h["from"]].get("label", h["from"]),
                        "to": view.graph.nodes[h["to"]].get("label", h["to"]),
                        "partnerships": [{**p, "kinds": [builder.kind_label(k) for k in p["kinds"]]}
                                         for p in h["partnerships"]]} for h in found["hops"]]
    return picture


def country_picture(view: View, *, links: str | None = None) -> Picture:
    """The country network (`view` must be the country projection)."""
    builder = _Builder(view, "class", None)
    graph = view.graph
    nodes, edges, notes = _cut(graph, view, NODE_BUDGET, EDGE_BUDGET)
    builder.add_nodes(graph, nodes)
    for node in builder.net.nodes:
        attrs = graph.nodes[node["id"]]
        node["tip"].update(actors=attrs.get("actors", 0), partnerships=attrs.get("partnerships", 0),
                           domestic=attrs.get("domestic", 0), country="", **{"class": "Country"})
        node["value"] = attrs.get("actors", 0) + 1
        node["color"] = PALETTE[0]
        if links is not None and attrs.get("iri", "").startswith(f"{ID}country/"):
            node["url"] = links + "country/" + node["id"]
    builder.classes = {}
    builder.add_edges(graph, edges)
    builder.net.options = builder.options(len(nodes))
    legend_notes = "node size: number of actors in the country; edge width: partnerships"
    picture = builder.picture("countries", "Partnerships between countries", notes,
                              _summary(view, graph, nodes, edges))
    picture.legend["size"] = legend_notes
    picture.legend["nodes"] = [{"label": "Country", "label_zh": "國家", "colour": PALETTE[0]}]
    return picture


# --- rendering ----------------------------------------------------------------------------

def render(picture: Picture, templates_dir: Path = TEMPLATES_DIR, *, root: str = "",
           inline_from: Path | None = None, form: dict | None = None) -> str:
    """The HTML page of a picture.

    Served pages load `/static/vendor/vis-network/*` and `/viz/assets/*` (so a strict Content
    Security Policy holds); with `inline_from` (the vendor folder) every script and style is
    written into the page, which then works offline as a single file.
    """
    env = Environment(loader=FileSystemLoader(templates_dir),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    inline = None
    if inline_from is not None:
        own = templates_dir / "viz"
        inline = {"vis_js": (inline_from / "vis-network.min.js").read_text(encoding="utf-8"),
                  "vis_css": (inline_from / "vis-network.css").read_text(encoding="utf-8"),
                  "viz_js": (own / "viz.js").read_text(encoding="utf-8"),
                  "viz_css": (own / "viz.css").read_text(encoding="utf-8")}
        for name, text in inline.items():
            if "</script" in text.lower() or "</style" in text.lower():
                raise ValueError(f"{name} cannot be inlined: it contains a closing tag")
    return env.get_template("viz/picture.html").render(
        picture=picture, data_json=script_json(picture.data()), root=root, inline=inline,
        form=form)
