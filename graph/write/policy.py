"""What the write API refuses, in one place: protected graphs, vocabulary and shapes, limits.

Every kind of write (changeset documents, SPARQL Update, the Graph Store, reverts, `citydip
apply`) asks the same `Policy`, twice: once with what the request names, so that a request naming
the ontology is refused even when it would change nothing, and once with the effective change
before it is validated. SPARQL Update asks it operation by operation, since a DELETE without GRAPH
is only known to touch a protected graph once expanded to the graphs that hold its triples.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from graph.core.namespaces import CD, GRAPH, ONTOLOGY_GRAPH, SHAPES, SHORTCUTS_GRAPH
from graph.sparql.limits import Bounds
from graph.write.changes import META_GRAPH, ChangeError, Changeset

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
SCHEMA_PREDICATES = frozenset(ox.NamedNode(p) for p in (
    RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
    OWL + "equivalentClass", OWL + "equivalentProperty", OWL + "inverseOf", OWL + "imports",
))
"""Triples that change what the shapes mean (targets, sh:class): the ontology's business."""


def protected_graphs() -> frozenset[str]:
    return frozenset({str(ONTOLOGY_GRAPH), str(SHORTCUTS_GRAPH), META_GRAPH.value})


def is_protected(graph: str, protected: frozenset[str]) -> bool:
    return graph in protected or graph.startswith(str(GRAPH["shapes"]))


class Policy:
    """The refusals of one writer; each raises ChangeError with the status that fits."""

    def __init__(self, bounds: Bounds | None = None,
                 protected: frozenset[str] | None = None) -> None:
        self.bounds = bounds or Bounds()
        self.protected = protected if protected is not None else protected_graphs()

    def refuse_graph(self, graph: str, quad: ox.Quad | None = None) -> None:
        """Refuse (403) writing to a protected graph: the ontology, the shortcuts, bookkeeping."""
        if not is_protected(graph, self.protected):
            return
        why = ("the shortcuts are derived from the agreements by queries/rules/*.rq; change the "
               "agreements instead" if graph == str(SHORTCUTS_GRAPH) else
               "the ontology and vocabularies change through ontology/ in git"
               if graph == str(ONTOLOGY_GRAPH) else "it is kept by the server itself")
        concerned = f" (first triple concerned: {_show(quad)})" if quad is not None else ""
        raise ChangeError(f"the graph <{graph}> cannot be written: {why}{concerned}", 403)

    def refuse_request(self, add: Iterable[ox.Quad] = (), remove: Iterable[ox.Quad] = ()) -> None:
        """Refuse (403) what a request asks for: a protected graph, vocabulary or shapes, even if
        it would change nothing."""
        quads = sorted(set(add) | set(remove), key=str)
        for quad in quads:
            if isinstance(quad.graph_name, ox.DefaultGraph):
                continue  # "wherever it is": checked once expanded to the graphs that hold it
            self.refuse_graph(quad.graph_name.value, quad)
        for quad in quads:
            if quad.predicate in SCHEMA_PREDICATES or quad.predicate.value.startswith(SH) or (
                    isinstance(quad.object, ox.NamedNode) and quad.object.value.startswith(SH)) or (
                    isinstance(quad.subject, ox.NamedNode)
                    and quad.subject.value.startswith((str(CD), SHAPES))):
                raise ChangeError("vocabulary and shapes cannot be changed through the write API "
                                  "(they change through ontology/ and shapes/ in git): "
                                  f"{_show(quad)}", 403)

    def refuse_change(self, change: Changeset) -> None:
        """Refuse an effective change before it is staged: too large (413), forbidden (403),
        removing statements loaded into the default graph (403), adding to it (400), or removing
        blank nodes (409)."""
        if len(change.added) + len(change.removed) > self.bounds.max_triples:
            raise ChangeError(str(self.bounds.too_many("the change")), 413)
        self.refuse_request(change.added, change.removed)
        bulk = next((q for q in change.removed if isinstance(q.graph_name, ox.DefaultGraph)), None)
        if bulk is not None:  # graph.store.load: a data file of CITYDIP_DEFAULT_GRAPH_BYTES or more
            raise ChangeError("statements loaded in bulk into the default graph (a data file as "
                              "large as CITYDIP_DEFAULT_GRAPH_BYTES) are not edited through the "
                              "write API: change the file and load it again (`citydip load "
                              f"--force`); first concerned: {_show(bulk)}", 403)
        if any(isinstance(q.graph_name, ox.DefaultGraph) for q in change.added):
            raise ChangeError("a change must name its graphs: the default graph is the union of "
                              "the named graphs")
        if any(isinstance(t, ox.BlankNode) for q in change.removed for t in (q.subject, q.object)):
            # Written data never has any (blank nodes become skolem IRIs); a data file might.
            raise ChangeError("triples with blank nodes cannot be removed: a SPARQL update cannot "
                              "name a blank node; give the node an IRI in its data file", 409)


def _show(quad: ox.Quad) -> str:
    return f"{quad.subject} {quad.predicate} {quad.object} in {quad.graph_name}"
