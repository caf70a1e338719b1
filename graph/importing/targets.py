"""The graph as an import finds it: the areas to reconcile against, the countries, the ties.

Why a module of its own: `import_list` (graph/importing/world.py) reads these once, from the
store it built of the report's data and the lists imported before, with the queries under
`queries/world/`; reconciliation and the RDF writer then only consult what is read here. Kept
apart, the reading of the graph and the making of an import each fit in one screenful of concern.
"""

from __future__ import annotations

from collections import defaultdict
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import GRAPH
from graph.core.settings import Settings
from graph.importing.gazetteer import geonames_id
from graph.importing.reconcile import Target
from graph.importing.spec import WIKIDATA, WORLD_PREFIX
from graph.sparql.catalogue import internal_query
from graph.store.embedded import Store


def _select(store: Store, settings: Settings, name: str) -> list[dict]:
    text = internal_query(settings.queries_dir, f"world/{name}").text
    solutions = cast(ox.QuerySolutions, store.query(text))  # the world queries are SELECTs
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names} for s in solutions]


def _v(term) -> str:
    return "" if term is None else term.value


def load_targets(store: Store, settings: Settings) -> tuple[dict[str, Target], dict[str, dict]]:
    """The areas the graph has (with names, country, coordinates, Wikidata ID, partners, and
    the graphs that describe them), and the countries by ISO code."""
    targets: dict[str, Target] = {}
    t: Target | None
    for row in _select(store, settings, "areas"):
        iri = _v(row["area"])
        t = targets.setdefault(iri, Target(iri))
        t.origins.add(_v(row["graph"]).removeprefix(str(GRAPH)))
    for row in _select(store, settings, "area-names"):
        t = targets.get(_v(row["area"]))
        if t is None:
            continue
        name = _v(row["name"])
        t.names.add(name)
        if _v(row.get("kind")) == "label":
            lang = row["name"].language or ""
            if lang not in t.labels or name < t.labels[lang]:
                t.labels[lang] = name
    for row in _select(store, settings, "area-facts"):
        t = targets.get(_v(row["area"]))
        if t is None:
            continue
        t.country = t.country or _v(row.get("code"))
        if row.get("lat") is not None and t.lat is None:
            t.lat, t.lon = float(_v(row["lat"])), float(_v(row["long"]))
        same = _v(row.get("same"))
        if same.startswith(WIKIDATA) and not t.qid:
            t.qid = same.removeprefix(WIKIDATA)
        elif geonames_id(same) and not t.gid:
            t.gid = geonames_id(same)
    for row in _select(store, settings, "area-partners"):
        a, b = _v(row["area"]), _v(row["partner"])
        if a in targets and b in targets:
            targets[a].partners.add(b)
    countries: dict[str, dict] = {}
    for row in _select(store, settings, "countries"):
        code = _v(row["code"])
        graph = _v(row["graph"]).removeprefix(str(GRAPH))
        found = countries.setdefault(code, {"iri": _v(row["country"]), "graphs": set()})
        found["graphs"].add(graph)
        if not graph.startswith(WORLD_PREFIX):  # the report's own country node wins
            found["iri"] = _v(row["country"])
    return targets, countries


def report_ties(store: Store, settings: Settings) -> dict[tuple[str, str], list[str]]:
    """The report's own twinning relations and agreements of two parties, by their (sorted)
    parties: the world tie of the same pair links to them."""
    ties: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _select(store, settings, "report-ties"):
        if _v(row["graph"]).removeprefix(str(GRAPH)).startswith(WORLD_PREFIX):
            continue
        key = (_v(row["a"]), _v(row["b"]))
        if _v(row["tie"]) not in ties[key]:
            ties[key].append(_v(row["tie"]))
    return {k: sorted(v) for k, v in ties.items()}
