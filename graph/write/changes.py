"""Changesets: every write becomes a set of quads to add and a set to remove.

A changeset is computed against the current store and is *effective*: every added quad is absent
before, every removed quad is present before. That makes it exactly invertible (a revert, or
`export --as-of`, undoes it without guessing) and makes replaying the history deterministic.

This module also holds what every write path shares: parsing RDF payloads (blank nodes become
skolem IRIs, so that every triple can be removed again later), the refusals (protected graphs,
vocabulary and shape triples), and the editors' changeset document (`POST /changes`,
`citydip apply`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import GRAPH, ONTOLOGY_GRAPH, SHORTCUTS_GRAPH
from graph.sparql.limits import Bounds, LimitExceeded, MemoryBudget
from graph.store.protocol import QuadSource

META_GRAPH = ox.NamedNode(str(GRAPH["meta"]))
"""Bookkeeping of the write path (the last applied change); never written by editors."""
SKOLEM_BASE = "https://w3id.org/citydiplomacy/.well-known/genid/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
VOCABULARY_NS = "https://w3id.org/citydiplomacy/ns#"
SHAPES_NS = "https://w3id.org/citydiplomacy/shapes"
SCHEMA_PREDICATES = frozenset(ox.NamedNode(p) for p in (
    RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
    OWL + "equivalentClass", OWL + "equivalentProperty", OWL + "inverseOf", OWL + "imports",
))
"""Triples that change what the shapes mean (targets, sh:class): the ontology's business."""

RDF_MEDIA_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
FORMAT_NAMES: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE, "ttl": ox.RdfFormat.TURTLE,
    "n-triples": ox.RdfFormat.N_TRIPLES, "nt": ox.RdfFormat.N_TRIPLES,
    "json-ld": ox.RdfFormat.JSON_LD, "jsonld": ox.RdfFormat.JSON_LD,
    "trig": ox.RdfFormat.TRIG, "n-quads": ox.RdfFormat.N_QUADS, "nq": ox.RdfFormat.N_QUADS,
    **RDF_MEDIA_TYPES,
}


class ChangeError(ValueError):
    """A write that cannot be done as asked, with the HTTP status that fits."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Changeset:
    """Quads to add and quads to remove; applied as one transaction."""

    added: frozenset[ox.Quad] = frozenset()
    removed: frozenset[ox.Quad] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def inverse(self) -> Changeset:
        return Changeset(self.removed, self.added)

    def quads(self) -> frozenset[ox.Quad]:
        return self.added | self.removed

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed)}


XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_SUBJECT, _PREDICATE = ox.NamedNode("urn:x-citydip:s"), ox.NamedNode("urn:x-citydip:p")


@lru_cache(maxsize=65536)
def _canonical_literal(literal: ox.Literal) -> ox.Literal:
    scratch = ox.Store()  # in memory and lazily built: about a microsecond
    scratch.add(ox.Quad(_SUBJECT, _PREDICATE, literal))
    return next(iter(scratch)).object


def canonical(quad: ox.Quad) -> ox.Quad:
    """The quad as the store keeps it: typed literals in canonical form ("54.3520" is read back
    as "54.352", "01" as "1"), so that quads compare equal to what the store returns."""
    literal = quad.object
    if not isinstance(literal, ox.Literal) or literal.language or literal.datatype == XSD_STRING:
        return quad
    return ox.Quad(quad.subject, quad.predicate, _canonical_literal(literal), quad.graph_name)


def to_nquads(quads: Iterable[ox.Quad]) -> str:
    """Quads as sorted N-Quads text (a stable form for the log and for diffs)."""
    # without an output, serialize returns the bytes
    lines = cast(bytes, ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS)).decode(
        "utf-8").splitlines()
    return "".join(line + "\n" for line in sorted(lines))


def from_nquads(text: str) -> frozenset[ox.Quad]:
    return frozenset(ox.parse(text, format=ox.RdfFormat.N_QUADS)) if text else frozenset()


# --- parsing payloads ------------------------------------------------------------------------


def rdf_format(name: str | None, default: ox.RdfFormat | None = None) -> ox.RdfFormat:
    """The RDF format for a media type (`text/turtle; charset=utf-8`) or short name (`ttl`)."""
    key = (name or "").split(";")[0].strip().lower()
    if not key and default is not None:
        return default
    fmt = FORMAT_NAMES.get(key)
    if fmt is None:
        raise ChangeError(f"unsupported RDF format {key or '(none)'}: send Turtle, N-Triples, "
                          "JSON-LD, TriG, N-Quads or RDF/XML", 415)
    return fmt


def parse_rdf(data: bytes | str, fmt: ox.RdfFormat, graph: ox.NamedNode | ox.DefaultGraph,
              base_iri: str | None = None, bounds: Bounds | None = None) -> list[ox.Quad]:
    """Parse a payload; its default-graph triples go to `graph`, blank nodes become skolem IRIs.

    Bounded (graph.sparql.limits): nesting and entity declarations are checked before the parser
    runs,
    then the payload is read as a stream, stopped past the triples and the memory it may take.
    """
    bounds = bounds or Bounds()
    what = f"the {fmt.name} payload"
    quads: list[ox.Quad] = []
    try:
        bounds.check_rdf(data, fmt)
        budget = MemoryBudget(bounds.memory_mb, what)
        for quad in ox.parse(data, format=fmt, base_iri=base_iri):
            quads.append(quad)
            if len(quads) % 4096 == 0:
                if len(quads) > bounds.max_triples:
                    raise bounds.too_many(what)
                budget.check()
        if len(quads) > bounds.max_triples:
            raise bounds.too_many(what)
    except LimitExceeded as exc:
        raise ChangeError(str(exc), exc.status) from None
    except SyntaxError as exc:
        raise ChangeError(f"{what} does not parse: {exc}") from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ChangeError(f"{what} cannot be read: {exc}") from None
    placed = [q if not isinstance(q.graph_name, ox.DefaultGraph)
              else ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]
    return [canonical(q) for q in skolemize(placed)]


def skolem_iri() -> ox.NamedNode:
    """A fresh well-known IRI standing for a blank node."""
    return ox.NamedNode(SKOLEM_BASE + uuid.uuid4().hex)


def skolemize(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Replace blank nodes by fresh well-known IRIs (RDF 1.1 §3.5), the same node by the same IRI.

    SPARQL's DELETE DATA cannot name a blank node, so a blank node written into the store could
    never be removed or reverted; a skolem IRI can.
    """
    names: dict[str, ox.NamedNode] = {}

    def fix(term):
        if isinstance(term, ox.BlankNode):
            if term.value not in names:
                names[term.value] = skolem_iri()
            return names[term.value]
        return term

    return [ox.Quad(fix(q.subject), q.predicate, fix(q.object), q.graph_name) for q in quads]


# --- what may be written ---------------------------------------------------------------------


def protected_graphs() -> frozenset[str]:
    return frozenset({str(ONTOLOGY_GRAPH), str(SHORTCUTS_GRAPH), META_GRAPH.value})


def is_protected(graph: str, protected: frozenset[str]) -> bool:
    return graph in protected or graph.startswith(str(GRAPH["shapes"]))


def refuse_graph(graph: str, protected: frozenset[str], quad: ox.Quad | None = None) -> None:
    """Refuse (403) writing to a protected graph: the ontology, the shortcuts, bookkeeping."""
    if not is_protected(graph, protected):
        return
    why = ("the shortcuts are derived from the agreements by queries/rules/*.rq; change the "
           "agreements instead" if graph == str(SHORTCUTS_GRAPH) else
           "the ontology and vocabularies change through ontology/ in git"
           if graph == str(ONTOLOGY_GRAPH) else "it is kept by the server itself")
    concerned = f" (first triple concerned: {_show(quad)})" if quad is not None else ""
    raise ChangeError(f"the graph <{graph}> cannot be written: {why}{concerned}", 403)


def refuse_forbidden(changeset: Changeset, protected: frozenset[str]) -> None:
    """Refuse (403) a change to a protected graph, or one that edits vocabulary or shapes.

    Called with what a request asks for as well as with what it would change, so that a request
    naming the ontology is refused even when it would change nothing.
    """
    for quad in sorted(changeset.quads(), key=str):
        if isinstance(quad.graph_name, ox.DefaultGraph):
            continue  # "wherever it is": checked once expanded to the graphs that hold it
        refuse_graph(quad.graph_name.value, protected, quad)
    for quad in sorted(changeset.quads(), key=str):
        if quad.predicate in SCHEMA_PREDICATES or quad.predicate.value.startswith(SH) or (
                isinstance(quad.object, ox.NamedNode) and quad.object.value.startswith(SH)) or (
                isinstance(quad.subject, ox.NamedNode)
                and quad.subject.value.startswith((VOCABULARY_NS, SHAPES_NS))):
            raise ChangeError("vocabulary and shapes cannot be changed through the write API "
                              "(they change through ontology/ and shapes/ in git): "
                              f"{_show(quad)}", 403)


def _show(quad: ox.Quad) -> str:
    return f"{quad.subject} {quad.predicate} {quad.object} in {quad.graph_name}"


# --- effective changes -----------------------------------------------------------------------


def present(source: QuadSource, quad: ox.Quad) -> bool:
    return any(True for _ in source.quads_for_pattern(
        quad.subject, quad.predicate, quad.object, quad.graph_name))


def effective(source: QuadSource, add: Iterable[ox.Quad], remove: Iterable[ox.Quad]) -> Changeset:
    """What removing, then adding, these quads really changes in `source`.

    A quad to remove in the default graph means the triple in whichever named graph holds it (the
    default graph is their union). A quad both removed and added stays as it is.
    """
    add = {canonical(q) for q in add}
    removed: set[ox.Quad] = set()
    for quad in map(canonical, remove):
        if isinstance(quad.graph_name, ox.DefaultGraph):
            removed.update(q for q in source.quads_for_pattern(
                quad.subject, quad.predicate, quad.object, None)
                if not isinstance(q.graph_name, ox.DefaultGraph))
        elif present(source, quad):
            removed.add(quad)
    added = {q for q in add if q not in removed and not present(source, q)}
    return Changeset(frozenset(added), frozenset(removed - add))


def graph_quads(source: QuadSource, graph: ox.NamedNode) -> set[ox.Quad]:
    return set(source.quads_for_pattern(None, None, None, graph))


def replace_graph(source: QuadSource, graph: ox.NamedNode, quads: Iterable[ox.Quad]) -> Changeset:
    """The change that makes `graph` hold exactly these quads (Graph Store PUT)."""
    wanted = {canonical(q) for q in quads}
    current = graph_quads(source, graph)
    return Changeset(frozenset(wanted - current), frozenset(current - wanted))


# --- the editors' changeset document ---------------------------------------------------------


@dataclass
class Document:
    """`{"message": …, "add": …, "remove": …, "format": …, "graph": …}` read into quads."""

    message: str
    add: list[ox.Quad] = field(default_factory=list)
    remove: list[ox.Quad] = field(default_factory=list)


def parse_document(doc: object, write_graph: str, bounds: Bounds | None = None) -> Document:
    """Read a changeset document (already decoded from JSON).

    `add` and `remove` are RDF text in `format` (default Turtle) or, as JSON objects or arrays,
    JSON-LD. Added triples go to `graph` (default: the write graph); removed ones are removed from
    `graph` if it is given, else from whichever named graph holds them. TriG names graphs itself.
    """
    if not isinstance(doc, dict):
        raise ChangeError("a changeset is a JSON object with message, add and remove")
    unknown = set(doc) - {"message", "add", "remove", "format", "graph", "base"}
    if unknown:
        raise ChangeError(f"unknown changeset field(s): {', '.join(sorted(unknown))}")
    message = doc.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ChangeError("a changeset needs a message saying what it changes and why")
    graph = doc.get("graph")
    if graph is not None and not isinstance(graph, str):
        raise ChangeError("graph must be an IRI string")
    try:
        target = ox.NamedNode(graph or write_graph)
    except ValueError as exc:
        raise ChangeError(f"graph is not an IRI: {exc}") from None
    base = doc.get("base") if isinstance(doc.get("base"), str) else None
    fmt_name = doc.get("format")
    if fmt_name is not None and not isinstance(fmt_name, str):
        raise ChangeError("format must be a string such as turtle, json-ld or trig")

    def read(key: str, into: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
        value = doc.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict | list):
            return parse_rdf(json.dumps(value), ox.RdfFormat.JSON_LD, into, base, bounds)
        if not isinstance(value, str):
            raise ChangeError(f"{key} must be RDF text or a JSON-LD object")
        return parse_rdf(value, rdf_format(fmt_name, ox.RdfFormat.TURTLE), into, base, bounds)

    add = read("add", target)
    remove = read("remove", target if graph else ox.DefaultGraph())
    if bounds is not None and len(add) + len(remove) > bounds.max_triples:
        raise ChangeError(str(bounds.too_many("the changeset")), 413)
    if not add and not remove:
        raise ChangeError("the changeset adds and removes nothing")
    return Document(message.strip(), add, remove)


def read_document_file(path: Path, write_graph: str, bounds: Bounds | None = None) -> Document:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ChangeError(f"{path}: the JSON nests too deeply") from None
    except json.JSONDecodeError as exc:
        raise ChangeError(f"{path}: not JSON: {exc}") from None
    return parse_document(doc, write_graph, bounds)
