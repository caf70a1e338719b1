"""`citydip network …` (measures, paths, exports) and `citydip viz …` (standalone pictures).

Both read the data into an in-memory store, as the other commands do, and share the filters
--kind, --topic, --class, --country, --since and --until (see docs/network.md).

Why one module over 400 lines: every command repeats the six filter options in its signature,
since typer has no shared option groups; the commands themselves are short. Splitting network
from viz would repeat the options once more.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph.core.settings import get_settings
from graph.network.cache import NetworkCache, View
from graph.network.data import UnknownActor, fetch, store_select
from graph.network.export import EXPORT_FORMATS, node_link
from graph.network.measures import MEASURES
from graph.network.projection import FilterError, Filters
from graph.store.embedded import Store
from graph.store.load import build_store, dataset_paths

app = typer.Typer(add_completion=False)
"""Holds the two groups; `graph.cli.main` adds it without a name, so they sit beside the others."""
network_app = typer.Typer(help="Measure the web of partnerships: centrality, clusters, paths, "
                          "growth; export it for Gephi or Cytoscape.", no_args_is_help=True)
viz_app = typer.Typer(help="Draw the web of partnerships as a standalone HTML file.",
                      no_args_is_help=True)
app.add_typer(network_app, name="network")
app.add_typer(viz_app, name="viz")

out = Console(soft_wrap=True)
err = Console(stderr=True)


class Output(StrEnum):
    text = "text"
    json = "json"


class ExportFormat(StrEnum):
    graphml = "graphml"
    gexf = "gexf"
    csv = "csv"
    json = "json"


class Projection(StrEnum):
    partner = "partner"
    bipartite = "bipartite"
    country = "country"


class Colour(StrEnum):
    by_class = "class"
    community = "community"


Kind = Annotated[list[str] | None, typer.Option(
    "--kind", help="Partnership kind (repeatable): sister-city-agreement, "
    "memorandum-of-understanding, mou-city-relation, agreement, relation… "
    "(`citydip network filters`).")]
Topic = Annotated[list[str] | None, typer.Option("--topic", help="Topic (repeatable).")]
ActorClass = Annotated[list[str] | None, typer.Option(
    "--class", help="Actor class (repeatable): City, School, Organization…")]
Country = Annotated[list[str] | None, typer.Option(
    "--country", help="A party's country (repeatable): poland, PL or Poland.")]
Since = Annotated[int | None, typer.Option(help="First year (undated partnerships left out).")]
Until = Annotated[int | None, typer.Option(
    help="Last year: the web as of that year (undated partnerships left out).")]
Data = Annotated[list[Path] | None, typer.Option(
    "--data", help="Data files or folders (default: graph/data).")]
Format = Annotated[Output, typer.Option("--format", "-f")]
Source = Annotated[list[str] | None, typer.Option(
    "--source", help="Partnerships from one source (repeatable): report, an imported pair list "
    "(wikipedia, wikidata-2016) or union (all); loads the lists it needs (`citydip import "
    "world` first).")]

_cache = NetworkCache(max_views=4)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def source_paths(settings, sources: list[str]) -> list:
    """The data files `--source` needs: the report's alone for `report`, else the report and
    every imported list (an area matched across lists takes its labels and country from the
    list that introduced it; the filter then keeps the partnerships of the sources named)."""
    names = {v.strip().removeprefix("world-") for value in sources for v in value.split(",")}
    return dataset_paths(settings, ["report"] if names <= {"report", ""} else ["all"])


def _view(kind, topic, actor_class, country, since, until, data_paths,
          projection: str = "partner", source: list[str] | None = None) -> View:
    """The view of the data under the filters given on the command line."""
    settings = get_settings()
    with err.status("Loading the graph…"):
        try:
            if data_paths is None and source:
                data_paths = source_paths(settings, source)
            store = build_store(settings, data_paths, Store(None))
        except (OSError, SyntaxError, ValueError) as exc:
            _fail(f"cannot load the data: {exc}")
    version = store.version()
    data = _cache.load(version, lambda: fetch(store_select(store), settings.queries_dir))
    try:
        filters = Filters.parse(data, kind or (), topic or (), actor_class or (), country or (),
                                since, until, source or ())
        return _cache.view(version, filters, projection)
    except FilterError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable: _fail exits


def _json(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def _label(row: dict) -> str:
    zh = row.get("label_zh")
    return f"{row.get('label', row.get('id'))}" + (f" · {zh}" if zh else "")


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def _caption(view: View) -> str:
    return f"{len(view.partnerships)} partnerships; {view.filters.describe()}"


# --- network ---------------------------------------------------------------------------------

@network_app.command()
def stats(kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
          country: Country = None, since: Since = None, until: Until = None,
          data: Data = None, source: Source = None, format: Format = Output.text,
          exact: Annotated[bool, typer.Option(
              "--exact-distances", help="Exact mean distance on a large component too "
              "(a search from every node: a minute for 20,000 nodes).")] = False) -> None:
    """Size, degrees, components, clustering, triangles, k-core, communities, assortativity
    and distances."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    s = view.stats()
    if exact and s["largest_component"].get("method") != "exact":
        from graph.network.measures import exact_mean_distance

        with err.status("Measuring every distance…"):
            mean = exact_mean_distance(view.graph, view.analysis.components()[0])
        s = {**s, "largest_component": {**s["largest_component"], "mean_distance": mean,
                                        "method": "exact", "note": "diameter and mean "
                                        "distance exact (all-pairs breadth-first search)"}}
    if format is Output.json:
        return _json(s)
    dist = s["largest_component"]
    lines = [
        f"partner network: {s['nodes']} actors, {s['edges']} ties ({s['weight']} counting each "
        f"shared partnership), density {s['density']:.4f}",
        f"degree: average {s['degree']['average']:.2f}, maximum {s['degree']['max']}; "
        f"triangles: {s['triangles']}",
        f"from {s['partnerships']} partnerships ({s['undated_partnerships']} undated); "
        f"{s['selection']}",
        f"components: {s['components']['count']} (largest {s['components']['largest']})",
        f"largest component: diameter {dist['diameter']}, mean distance "
        f"{_number(dist['mean_distance'])} ({dist['method']})",
        f"clustering: average {s['clustering']['average']:.4f}, transitivity "
        f"{s['clustering']['transitivity']:.4f}",
        f"k-core: max k {s['core']['max_k']} ({s['core']['main_core_size']} actors in the main "
        "core)",
        f"communities (Louvain, seed {s['communities']['seed']}): {s['communities']['count']}, "
        f"modularity {_number(s['communities']['modularity'])}",
        "assortativity: " + ", ".join(f"{k} {_number(v)}" for k, v in s["assortativity"].items()),
        f"betweenness: {s['betweenness']['method']}"
        + (f" — {s['betweenness']['note']}" if "note" in s["betweenness"] else ""),
    ]
    for line in lines:
        out.print(line, highlight=False, markup=False)


@network_app.command()
def top(by: Annotated[str, typer.Option(help=", ".join(MEASURES))] = "degree",
        limit: Annotated[int, typer.Option(min=1)] = 10,
        kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
        country: Country = None, since: Since = None, until: Until = None,
        data: Data = None, source: Source = None, format: Format = Output.text) -> None:
    """The actors ranked by degree, weighted degree, betweenness, PageRank, clustering or core."""
    if by not in MEASURES:
        _fail(f"--by: unknown measure {by!r}; use {', '.join(MEASURES)}")
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    result = view.top(by, limit)
    if format is Output.json:
        return _json(result)
    table = Table(title=f"Top {limit} by {by} ({result['method']['method']})",
                  caption=_caption(view))
    for column in ("#", "actor", "class", "country", by):
        table.add_column(column)
    for row in result["actors"]:
        table.add_row(str(row["rank"]), _label(row), row["class"], row["country"],
                      _number(row[by]))
    out.print(table)


@network_app.command()
def path(source: Annotated[str, typer.Argument(help="From: city/gdynia, an IRI or a label.")],
         target: Annotated[str, typer.Argument(help="To.")],
         kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
         country: Country = None, since: Since = None, until: Until = None,
         data: Data = None, sources: Source = None, format: Format = Output.text) -> None:
    """How one actor reaches another: a shortest chain of partnerships."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=sources)
    try:
        result = view.path(source, target)
    except UnknownActor as exc:
        _fail(str(exc))
    if format is Output.json:
        return _json(result)
    if not result["connected"]:
        out.print(f"{result['from']} and {result['to']} are not connected "
                  f"({view.filters.describe()}).", highlight=False, markup=False)
        raise typer.Exit(1)
    labels = {n["id"]: _label(n) for n in result["nodes"]}
    out.print(f"{result['length']} hop(s): " + " → ".join(labels.values()), highlight=False,
              markup=False)
    for hop in result["hops"]:
        out.print(f"  {labels[hop['from']]} — {labels[hop['to']]}", highlight=False,
                  markup=False)
        for p in hop["partnerships"]:
            out.print(f"      {p['label']} [{', '.join(p['kinds'])}; "
                      f"{p['date'] or 'date not stated'}]", highlight=False, markup=False)
    if result["alternatives"] > 1:
        out.print(f"({result['alternatives']}{'+' if result['alternatives_capped'] else ''} "
                  "shortest paths; one shown)", highlight=False, markup=False)


@network_app.command()
def ego(actor: Annotated[str, typer.Argument(help="city/kaohsiung, an IRI or a label.")],
        radius: Annotated[int, typer.Option(min=1, max=4)] = 1,
        kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
        country: Country = None, since: Since = None, until: Until = None,
        data: Data = None, source: Source = None, format: Format = Output.text) -> None:
    """An actor's neighbourhood: the actors within --radius hops and the ties among them."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    try:
        centre, sub = view.ego(actor, radius)
    except UnknownActor as exc:
        _fail(str(exc))
    if format is Output.json:
        return _json({**view.about(), "centre": centre.id, "radius": radius,
                      "nodes": sub.number_of_nodes(), "edges": sub.number_of_edges(),
                      "network": node_link(sub)})
    table = Table(title=f"Within {radius} hop(s) of {centre.label}: {sub.number_of_nodes()} "
                  f"actors, {sub.number_of_edges()} ties", caption=_caption(view))
    for column in ("hops", "actor", "class", "country", "partnerships with centre"):
        table.add_column(column)
    rows = sorted(sub.nodes(data=True), key=lambda item: (item[1]["distance"], item[0]))
    for n, attrs in rows:
        shared = sub.edges[centre.id, n]["weight"] if sub.has_edge(centre.id, n) else ""
        table.add_row(str(attrs["distance"]), _label({"id": n, **attrs}), attrs.get("cls", ""),
                      attrs.get("country", ""), str(shared))
    out.print(table)


@network_app.command()
def communities(members: Annotated[int, typer.Option(help="Members listed per community.")] = 8,
                kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
                country: Country = None, since: Since = None, until: Until = None,
                data: Data = None, source: Source = None, format: Format = Output.text) -> None:
    """Louvain communities (weighted, fixed seed), largest first."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    result = view.communities(members)
    if format is Output.json:
        return _json(result)
    out.print(f"{result['count']} communities, modularity {_number(result['modularity'])} "
              f"(Louvain, seed {result['seed']}); {view.filters.describe()}", highlight=False,
              markup=False)
    for comm in result["communities"]:
        names = ", ".join(m["label"] for m in comm["members"])
        more = comm["size"] - len(comm["members"])
        out.print(f"  {comm['id'] + 1}. {comm['size']} actors "
                  f"({', '.join(comm['top_countries'])}): {names}"
                  + (f" and {more} more" if more > 0 else ""), highlight=False, markup=False)


@network_app.command()
def timeline(kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
             country: Country = None, since: Since = None, until: Until = None,
             data: Data = None, source: Source = None, format: Format = Output.text) -> None:
    """How the web grew: actors, ties and components as of each year."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    result = view.timeline()
    if format is Output.json:
        return _json(result)
    table = Table(title="Growth of the partner network (cumulative)",
                  caption=f"{result['undated']} undated partnerships not placed; "
                          f"{view.filters.describe()}")
    for column in ("year", "new partnerships", "new actors", "actors", "ties", "components"):
        table.add_column(column, justify="right")
    for row in result["years"]:
        table.add_row(*(str(row[k]) for k in ("year", "partnerships", "new_actors", "nodes",
                                              "edges", "components")))
    out.print(table)


@network_app.command("actor")
def actor_measures(actor: Annotated[str, typer.Argument(help="city/kaohsiung, IRI or label.")],
                   kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
                   country: Country = None, since: Since = None, until: Until = None,
                   data: Data = None, source: Source = None, format: Format = Output.text) -> None:
    """Every measure of one actor."""
    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    try:
        found = view.actor(actor)
    except UnknownActor as exc:
        _fail(str(exc))
    result = view.analysis.actor(found.id)
    if format is Output.json:
        return _json(result)
    for key, value in result.items():
        out.print(f"{key}: {_number(value) if not isinstance(value, dict) else value}",
                  highlight=False, markup=False)


@network_app.command("filters")
def list_filters(data: Data = None, source: Source = None,
                 format: Format = Output.text) -> None:
    """What --kind, --topic, --class and --country accept, and the years the data spans."""
    view = _view(None, None, None, None, None, None, data, source=source)
    vocab = view.data.vocabulary()
    if format is Output.json:
        return _json(vocab)
    for name in ("kind", "topic", "class", "country"):
        out.print(f"{name}:", highlight=False, markup=False)
        if name == "kind":
            out.print("  agreement  any agreement\n  relation  any twinning relation",
                      highlight=False, markup=False)
        for term in vocab[name]:
            out.print(f"  {term['id']}  {term['label']}"
                      + (f" · {term['label_zh']}" if term["label_zh"] else ""),
                      highlight=False, markup=False)
    out.print(f"years: {vocab['years']}", highlight=False, markup=False)


@network_app.command("export")
def export_network(
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.graphml,
    projection: Annotated[Projection, typer.Option(help="partner, bipartite or country.")]
    = Projection.partner,
    table: Annotated[str, typer.Option(help="CSV only: edges or nodes.")] = "edges",
    output: Annotated[Path | None, typer.Option("--out", "-o", help="File to write.")] = None,
    kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
    country: Country = None, since: Since = None, until: Until = None, data: Data = None,
    source: Source = None,
) -> None:
    """Write the network as GraphML or GEXF (Gephi, Cytoscape), CSV (edges or nodes) or JSON."""
    if table not in ("edges", "nodes"):
        _fail(f"--table: unknown table {table!r}; use edges or nodes")
    view = _view(kind, topic, actor_class, country, since, until, data, projection.value,
                 source=source)
    body = view.export(format.value, table)
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        err.print(f"wrote {view.graph.number_of_nodes()} nodes and "
                  f"{view.graph.number_of_edges()} edges ({EXPORT_FORMATS[format.value]}) "
                  f"to {output}", highlight=False, markup=False)


# --- viz -------------------------------------------------------------------------------------

Out = Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")]
ColourOption = Annotated[Colour, typer.Option("--color", help="Colour nodes by class or by "
                                              "community.")]
Links = Annotated[str | None, typer.Option(help="Prefix of the page a click on a node opens; the "
                                    "default opens the resource's IRI.")]


def _write_picture(picture, output: Path) -> None:
    from graph.network.viz import VENDOR_DIR, render

    html = render(picture, inline_from=VENDOR_DIR / "vis-network")
    output.write_text(html, encoding="utf-8")
    for note in picture.notes:
        err.print(note, highlight=False, markup=False)
    err.print(f"wrote {picture.summary['nodes']} nodes and {picture.summary['edges']} edges to "
              f"{output}", highlight=False, markup=False)


def _links(links: str | None) -> str:
    from graph.core.namespaces import ID

    return str(ID) if links is None else links


@viz_app.command("network")
def viz_network(output: Out, colour: ColourOption = Colour.by_class,
                budget: Annotated[int, typer.Option(help="Most nodes drawn.")] = 1500,
                links: Links = None,
                kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
                country: Country = None, since: Since = None, until: Until = None,
                data: Data = None, source: Source = None) -> None:
    """The whole (filtered) web; above --budget nodes, the best-connected actors."""
    from graph.network.viz import network_picture

    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    _write_picture(network_picture(view, color_by=colour.value, links=_links(links),
                                   budget=budget), output)


@viz_app.command("ego")
def viz_ego(actor: Annotated[str, typer.Argument(help="city/kaohsiung, an IRI or a label.")],
            output: Out, radius: Annotated[int, typer.Option(min=1, max=4)] = 1,
            colour: ColourOption = Colour.by_class, links: Links = None,
            kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
            country: Country = None, since: Since = None, until: Until = None,
            data: Data = None, source: Source = None) -> None:
    """An actor's neighbourhood."""
    from graph.network.viz import ego_picture

    view = _view(kind, topic, actor_class, country, since, until, data, source=source)
    try:
        picture = ego_picture(view, actor, radius, color_by=colour.value, links=_links(links))
    except UnknownActor as exc:
        _fail(str(exc))
    _write_picture(picture, output)


@viz_app.command("path")
def viz_path(source: Annotated[str, typer.Argument(help="From.")],
             target: Annotated[str, typer.Argument(help="To.")], output: Out,
             colour: ColourOption = Colour.by_class, links: Links = None,
             kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
             country: Country = None, since: Since = None, until: Until = None,
             data: Data = None, sources: Source = None) -> None:
    """A shortest chain of partnerships between two actors."""
    from graph.network.viz import path_picture

    view = _view(kind, topic, actor_class, country, since, until, data, source=sources)
    try:
        picture = path_picture(view, source, target, color_by=colour.value, links=_links(links))
    except UnknownActor as exc:
        _fail(str(exc))
    _write_picture(picture, output)


@viz_app.command("countries")
def viz_countries(output: Out, links: Links = None,
                  kind: Kind = None, topic: Topic = None, actor_class: ActorClass = None,
                  country: Country = None, since: Since = None, until: Until = None,
                  data: Data = None, source: Source = None) -> None:
    """The web aggregated by country."""
    from graph.network.viz import country_picture

    view = _view(kind, topic, actor_class, country, since, until, data, "country", source=source)
    _write_picture(country_picture(view, links=_links(links)), output)
