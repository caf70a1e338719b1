"""Self-descriptions: the SPARQL service description and the VoID description of the dataset."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
from fastapi import Request, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from graph.backend import Backend
from graph.core.namespaces import CD
from graph.core.settings import Settings
from graph.core.terms import RDF_TYPE, RDFS_SUBCLASS_OF
from graph.sparql.catalogue import internal_query
from graph.sparql.formats import GRAPH_FORMATS, NotAcceptable, negotiate
from graph.store.dumps import DATASET_LICENSE, FULL_DUMP, graph_file
from server.cache import Change, Recount, derived, per_data_version
from server.dump_links import graph_licences
from server.following import (
    COUNTRY,
    PAIR_LIST_ROW,
    SOURCE_LINE,
    classes_below,
    member,
    typed_subjects,
    types_now_and_before,
)
from server.responses import error

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "JSON-LD", "N-Triples", "RDF_XML", "TriG"]
RDFLIB_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdfxml": "xml",
                  "trig": "trig"}


async def _meta(backend: Backend, settings: Settings, name: str, **values: str) -> list[dict]:
    query = internal_query(settings.queries_dir, f"meta/{name}")
    return await backend.select(query.text, query.bindings(values),
                                background=True)


FOLLOW_LIMIT = 200_000
"""Largest changeset (quads) the counts follow; beyond, a recount is cheaper to reason about."""


async def dataset_statistics(request: Request) -> dict:
    """Counts for the descriptions, kept per data version (see server/cache.py).

    Triples, triples per graph and per property, resources per class, distinct subjects and
    the partitions follow each write from its changeset; the examples too, unless a resource
    the write typed would be one of them (then all of it is recounted in the background).
    """
    kept = await per_data_version(request, "statistics:counts", lambda: counts(request.app))
    more = await per_data_version(request, "statistics:entities", lambda: entities(request.app))
    return {**kept, **more, "triples": triples(kept),
            "classes": len(kept["class_entities"]), "properties": len(kept["property_triples"])}


def triples(counts: dict) -> int:
    """Every triple: the named graphs' and the default graph's own (graph.store.load)."""
    return sum(counts["graphs"].values()) + counts.get("default_graph", 0)


async def counts(app) -> dict:
    backend, settings = app.state.backend, app.state.settings
    rows = await _meta(backend, settings, "void-graphs")
    graphs = {r["graph"].value: int(r["triples"].value) for r in rows
              if r.get("graph") is not None}
    union = sum(int(r["triples"].value) for r in rows if r.get("graph") is None)
    return {
        "graphs": graphs,
        # the files loaded into the default graph: never written, so no write moves this
        "default_graph": max(0, union - sum(graphs.values())),
        "property_triples": {r["property"].value: int(r["triples"].value)
                       for r in await _meta(backend, settings, "void-properties")},
        "class_entities": {r["class"].value: int(r["entities"].value)
                    for r in await _meta(backend, settings, "void-classes")
                    if isinstance(r["class"], ox.NamedNode)},
    }


async def entities(app) -> dict:
    backend, settings = app.state.backend, app.state.settings
    rows = await _meta(backend, settings, "void-entities", base=settings.resource_base)
    return {"entities": int(rows[0]["entities"].value) if rows else 0,
            "examples": [r["resource"].value
                         for r in await _meta(backend, settings, "void-examples")],
            "partitions": [{"class": r["class"].value,
                            "graph": r["graph"].value if r.get("graph") is not None else None,
                            "entities": int(r["entities"].value),
                            "rows": int(r["rows"].value)}
                           for r in await _meta(backend, settings, "void-partitions")]}


def follow_counts(counts: dict, change: Change) -> dict:
    """The counts after a commit, from its changeset (no recount); a very large changeset
    (a whole graph replaced) is recounted in the background instead."""
    if len(change.added) + len(change.removed) > FOLLOW_LIMIT:
        raise Recount
    graphs, properties = Counter(counts["graphs"]), Counter(counts["property_triples"])
    classes = Counter(counts["class_entities"])
    typed: Counter = Counter()
    for quads, sign in ((change.added, 1), (change.removed, -1)):
        for q in quads:
            if isinstance(q.graph_name, ox.DefaultGraph):
                continue
            graphs[q.graph_name.value] += sign
            properties[q.predicate.value] += sign
            if q.predicate == RDF_TYPE and isinstance(q.object, ox.NamedNode):
                typed[(q.subject, q.object)] += sign
    # A resource counts once per class however many graphs type it: look the touched ones up.
    for (subject, cls), net in typed.items():
        now = change.count(subject, RDF_TYPE, cls)
        classes[cls.value] += (now > 0) - (now - net > 0)
    return {"graphs": {k: v for k, v in graphs.items() if v > 0},
            "default_graph": counts.get("default_graph", 0),
            "property_triples": {k: v for k, v in properties.items() if v > 0},
            "class_entities": {k: v for k, v in classes.items() if v > 0}}


AREA, RELATION = f"{CD}AdministrativeArea", f"{CD}TwinningRelation"
EXAMPLES = {f"{CD}City": 2, f"{CD}SisterCityAgreement": 2, f"{CD}Visit": 1}
"""The classes queries/meta/void-examples.rq takes examples of (the first by IRI), how many."""


def follow_entities(kept: dict, change: Change, base: str) -> dict:
    """VoID's distinct subjects, examples and partitions after a commit, from its changeset
    (as void-entities.rq, void-examples.rq and void-partitions.rq would count them again);
    `Recount` for what they cannot follow cheaply: the pair lists' rows, the class tree, a
    resource that would become an example, a very large changeset."""
    if len(change.added) + len(change.removed) > FOLLOW_LIMIT:
        raise Recount
    subjects = set()
    for q in change.added | change.removed:
        if isinstance(q.graph_name, ox.DefaultGraph) or isinstance(q.subject, ox.Triple):
            continue
        if q.predicate in (RDFS_SUBCLASS_OF, SOURCE_LINE) or (
                q.predicate == RDF_TYPE and q.object == ox.NamedNode(PAIR_LIST_ROW)):
            raise Recount
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(base):
            subjects.add(q.subject)
    entities = kept["entities"]
    for subject in subjects:
        stated, was_stated = _stated(change, subject)
        entities += stated - was_stated
    moved: Counter = Counter()
    areas = None
    for subject in typed_subjects(change):
        now, before = types_now_and_before(change, subject)
        if areas is None:
            areas = classes_below(change, {"areas": AREA})["areas"]
        moved[AREA] += member(now, areas, COUNTRY) - member(before, areas, COUNTRY)
        moved[RELATION] += (RELATION in now) - (RELATION in before)
        for cls, most in EXAMPLES.items():
            if (cls in now) != (cls in before) and _may_be_example(
                    change, subject, cls, most, kept["examples"]):
                raise Recount
    partitions = [dict(p) for p in kept["partitions"]]
    for cls, delta in moved.items():
        if not delta:
            continue
        found = next((p for p in partitions if p["class"] == cls and p["graph"] is None), None)
        if found is None:
            found = {"class": cls, "graph": None, "entities": 0, "rows": 0}
            partitions.append(found)
        found["entities"] += delta
    partitions = [p for p in partitions if p["entities"] > 0 or p["rows"] > 0]
    return {"entities": entities, "examples": kept["examples"],
            "partitions": sorted(partitions, key=lambda p: (p["class"], p["graph"] is not None,
                                                            p["graph"] or ""))}


def _stated(change: Change, subject: ox.NamedNode) -> tuple[bool, bool]:
    """Whether `subject` is the subject of a statement in a named graph after and before the
    commit."""
    now = before = False
    for q in change.store.quads_for_pattern(subject, None, None, None):
        if not isinstance(q.graph_name, ox.DefaultGraph):
            now = True
            if q not in change.added:
                before = True
                break
    before = before or any(q.subject == subject and not isinstance(q.graph_name, ox.DefaultGraph)
                           for q in change.removed)
    return now, before


def _may_be_example(change: Change, subject, cls: str, most: int, examples: list[str]) -> bool:
    """A resource that gained or lost `cls` changes its examples if it was one, or if it comes
    before one of them (or they are fewer than `most`)."""
    if not isinstance(subject, ox.NamedNode) or subject.value in examples:
        return True  # a blank node comes before every IRI in SPARQL's order
    shown = [e for e in examples
             if next(iter(change.store.quads_for_pattern(ox.NamedNode(e), RDF_TYPE,
                                                          ox.NamedNode(cls), None)), None)]
    return len(shown) < most or subject.value < max(shown)


def register(app) -> None:
    """Let the counts follow writes (called when the app starts)."""
    keeper, base = derived(app), app.state.settings.resource_base
    keeper.register("statistics:counts", follow_counts)
    keeper.register("statistics:entities", lambda kept, change: follow_entities(
        kept, change, base))


def _send(graph: Graph, request: Request) -> Response:
    try:
        fmt = negotiate(request.headers.get("accept"), "CONSTRUCT",
                        request.query_params.get("format"))
    except NotAcceptable as exc:
        return error(406, str(exc))
    if fmt not in GRAPH_FORMATS:
        return error(406, "use Turtle, JSON-LD, N-Triples, RDF/XML or TriG")
    body = graph.serialize(format=RDFLIB_FORMATS[fmt.name], encoding="utf-8")
    return Response(body, media_type=fmt.media_type, headers={"Vary": "Accept"})


async def service_description(request: Request, backend: Backend, settings: Settings) -> Response:
    stats = await dataset_statistics(request)
    endpoint = URIRef(str(request.url_for("sparql")))
    g = Graph(bind_namespaces="rdflib")
    g.bind("sd", SD)
    service = BNode()
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, endpoint))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS:
        g.add((service, SD.resultFormat, FORMATS_NS[name]))
    dataset = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, DCTERMS.description,
           Literal("The default graph is the union of all named graphs"
                   + (" and of the data files loaded into it in bulk." if stats.get(
                       "default_graph") else "."), lang="en")))
    g.add((default, VOID.triples, Literal(stats["triples"], datatype=XSD.integer)))
    for iri, triples in stats["graphs"].items():
        named, inner = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(iri)))
        g.add((named, SD.graph, inner))
        g.add((inner, RDF.type, SD.Graph))
        g.add((inner, VOID.triples, Literal(triples, datatype=XSD.integer)))
    return _send(g, request)


def _partitions(g: Graph, dataset: URIRef, base: str, partitions: list[dict]) -> None:
    """The rows each pair list contributed, as a class partition of its graph's subset.

    The dataset's own class partitions are the resources typed with each class (above, kept
    per data version); distinct ties are those of cd:TwinningRelation, and the areas below
    country level, subclasses included, are counted on the front page."""
    for p in partitions:
        if p["graph"] is not None:
            subset = URIRef(base + ".well-known/void#graph-"
                            + p["graph"].rstrip("/").rsplit("/", 1)[-1])
            part = URIRef(f"{subset}-rows")
            g.add((subset, VOID.classPartition, part))
            g.add((part, DCTERMS.description, Literal(
                f"{p['rows']} rows of the pair list state {p['entities']} ties", lang="en")))
            g.add((part, VOID["class"], URIRef(p["class"])))
            g.add((part, VOID.entities, Literal(p["entities"], datatype=XSD.integer)))


async def void_description(request: Request, backend: Backend, settings: Settings) -> Response:
    stats = await dataset_statistics(request)
    licences = await graph_licences(request)
    base = str(request.base_url)
    dataset = URIRef(base + ".well-known/void#dataset")
    g = Graph(bind_namespaces="rdflib")
    g.bind("void", VOID)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, DCTERMS.title, Literal("City diplomacy knowledge graph", lang="en")))
    g.add((dataset, DCTERMS.title, Literal("城市外交知識圖譜", lang="zh-Hant")))
    g.add((dataset, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(str(request.url_for("sparql")))))
    g.add((dataset, VOID.uriSpace, Literal(settings.resource_base)))
    g.add((dataset, VOID.vocabulary, URIRef(str(CD))))
    for key in ("triples", "entities", "classes", "properties"):
        g.add((dataset, VOID[key], Literal(stats[key], datatype=XSD.integer)))
    g.add((dataset, VOID.distinctSubjects, Literal(stats["entities"], datatype=XSD.integer)))
    for example in stats["examples"]:
        g.add((dataset, VOID.exampleResource, URIRef(example)))
    for i, (cls, n) in enumerate(sorted(stats["class_entities"].items())):
        partition = URIRef(base + f".well-known/void#class-{i}")
        g.add((dataset, VOID.classPartition, partition))
        g.add((partition, VOID["class"], URIRef(cls)))
        g.add((partition, VOID.entities, Literal(n, datatype=XSD.integer)))
    for iri, triples in stats["graphs"].items():
        subset = URIRef(base + ".well-known/void#graph-" + iri.rstrip("/").rsplit("/", 1)[-1])
        g.add((dataset, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, SD.name, URIRef(iri)))
        g.add((subset, VOID.triples, Literal(triples, datatype=XSD.integer)))
        g.add((subset, VOID.dataDump, URIRef(base + "dump/" + graph_file(iri))))
        g.add((subset, DCTERMS.license, URIRef(licences.get(iri, (DATASET_LICENSE,))[0])))
    g.add((dataset, VOID.dataDump, URIRef(base + "dump/" + FULL_DUMP)))
    _partitions(g, dataset, base, stats.get("partitions", []))
    return _send(g, request)
