"""pyshacl's parsed shapes kept across validations, and the shapes whose targets reach given nodes.

Why it exists: a write is validated on a graph of a hundred triples or so (graph.write.incremental),
and on such a graph pyshacl 0.40.1 spent most of its time on work that does not depend on the
change. `pyshacl.validate` builds its `ShapesGraph` (every shape, path and parameter read out of
the shapes graph) anew on each call; and it evaluates the targets of *every* shape on the data
graph, although only the results about the change's focus nodes are kept. Three targets are
SHACL-SPARQL queries (ActorNativeLabelShape, AreaCoordinatesShape, TypedReferenceShape); the last
matches every triple against a filter and cost 31 ms of a 68 ms validation by itself, and the shapes
it selects are then validated on nodes whose results are thrown away.

So `KeptShapes` builds the ShapesGraph once (per process: the validation process keeps it for its
life) and runs pyshacl's own `Validator` with it, and `reaching()` names the shapes that can have
a focus node among their targets, which go to pyshacl as `use_shapes`; each of them is then handed
only the focus nodes among its targets (`_FocusedShape`), not every target on the graph: the
nodes extracted beside the focus nodes (a hub city with its types only) were validated against
the actor shapes and their results dropped (16.2 to 12.2–12.8 ms a small write, docs/benchmarks.md
"Stop 32"). Nested shapes (`sh:property`, `sh:node`, `sh:or`, …) are still looked up in the
full kept ShapesGraph and handed their value nodes, so a listed shape reports about a focus node
exactly what it reports in a run over all shapes. A shape
left out cannot report about a focus node: a validation result's focus node is a target of the
top-level shape that reports it (nested shapes report through it). `focus_nodes=` is not used:
pyshacl 0.40.1 then drops violations found in nested shapes (tests/unit/test_incremental.py keeps
that case).

How a shape is judged to reach a focus node `f`, each the way pyshacl finds targets
(`Shape.focus_nodes`): `sh:targetNode f`; `sh:targetClass C` (or a shape that is a class) and
`f rdf:type` C or a class the data graph makes a subclass of C; `sh:targetSubjectsOf p` and
`f p ?x`; `sh:targetObjectsOf p` and `?x p f`; a SPARQL target whose query selects `f` as
`?this` (run once per validation, by pyoxigraph on a copy of the small data graph). Any other
kind of target (a SHACL-AF target type, a JavaScript target) counts as reaching every node, and
a blank-node shape that reaches one makes the run use every shape (pyshacl's `use_shapes` takes
IRIs). When no shape reaches a focus node there is nothing
to run. tests/unit/test_kept_shapes.py checks the choice against pyshacl's own targets, and
tests/unit/test_incremental.py the verdicts against a full validation.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import pyoxigraph as ox
from pyshacl import Validator
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shape import Shape
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH

from graph.core.terms import ox_term, rdflib_term
from graph.store.validate import Report, findings

log = logging.getLogger(__name__)

OPTIONS: dict[str, Any] = {"debug": False, "inference": "none", "inplace": True,
                           "abort_on_first": False, "allow_infos": False, "allow_warnings": True,
                           "advanced": True, "iterate_rules": False, "use_js": None,
                           "sparql_mode": False, "focus_nodes": None}
"""What graph.store.validate.validate asks of `pyshacl.validate`, as the Validator's options."""


@dataclass
class _Targets:
    """How one shape picks its focus nodes (read once from the kept ShapesGraph)."""

    shape: URIRef | BNode
    nodes: set = field(default_factory=set)
    classes: set = field(default_factory=set)
    subjects_of: set = field(default_factory=set)
    objects_of: set = field(default_factory=set)
    queries: list[str] = field(default_factory=list)
    """SPARQL targets' SELECT texts, prefixes applied (as pyshacl runs them)."""
    anything: bool = False
    """A target this module cannot judge: the shape counts as reaching every node."""

    def reached(self, data: _Data, focus: list) -> list:
        """The nodes of `focus` among the shape's targets on `data` (every one of them, for a
        target this module cannot judge)."""
        if self.anything:
            return list(focus)
        return [f for f in focus if self._targets(data, f)]

    def _targets(self, data: _Data, f) -> bool:
        if f in self.nodes:
            return True
        if any(data.types(f) & data.kinds(c) for c in self.classes):
            return True
        if any((f, p, None) in data.graph for p in self.subjects_of):
            return True
        if any((None, p, f) in data.graph for p in self.objects_of):
            return True
        return any(f in data.selected(text) for text in self.queries)


class _Data:
    """A data graph as the targets are judged on it, with what several shapes ask kept: each
    class with its subclasses, each node's types, each SPARQL target's selection.

    A SPARQL target's query is run once, as pyshacl runs it (every ?this it selects is a
    target), by pyoxigraph on a copy of the graph in memory: rdflib took 6.7 ms of a write's
    21 ms of SHACL to run the three targets' queries with ?this bound to each focus node.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._kinds: dict = {}
        self._types: dict = {}
        self._answers: dict[str, set] = {}
        self._store: ox.Store | None = None  # made for the first SPARQL target asked about

    def kinds(self, target_class) -> set:
        """The class and every class the graph makes a subclass of it."""
        if target_class not in self._kinds:
            self._kinds[target_class] = {
                target_class, *self.graph.transitive_subjects(RDFS.subClassOf, target_class)}
        return self._kinds[target_class]

    def types(self, node) -> set:
        if node not in self._types:
            self._types[node] = set(self.graph.objects(node, RDF.type))
        return self._types[node]

    def selected(self, text: str) -> set:
        """What a SPARQL target's query selects as ?this."""
        if text not in self._answers:
            try:
                if self._store is None:
                    self._store = _in_oxigraph(self.graph)
                solutions = self._store.query(text)
                self._answers[text] = {rdflib_term(s["this"])
                                       for s in solutions  # type: ignore[union-attr]
                                       if s["this"] is not None}
            except (ValueError, TypeError, SyntaxError):  # a term or query it cannot take
                rows = cast(Any, self.graph.query(text))  # a SELECT's rows
                self._answers[text] = {row.this for row in rows if row.this is not None}
        return self._answers[text]


def _reached(targeted: dict[URIRef | BNode, list]) -> list[URIRef | BNode]:
    """The shapes of `targeted` (KeptShapes.targeted) that reach one of the focus nodes."""
    return [shape for shape, nodes in targeted.items() if nodes]


class KeptShapes:
    """A shapes graph parsed once into pyshacl's ShapesGraph, for many small validations."""

    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self.pyshacl = ShapesGraph(shapes)
        shapes_now = list(self.pyshacl.shapes)  # harvests every shape, nested ones included
        for shape in shapes_now:
            shape.set_advanced(True)  # what every advanced run sets on every shape
            shape.__class__ = _FocusedShape  # the same slots: only focus_nodes differs
        self.targets = [t for t in map(_targets, shapes_now)
                        if t.anything or t.nodes or t.classes or t.subjects_of
                        or t.objects_of or t.queries]

    def reaching(self, data: Graph, focus: list) -> list[URIRef | BNode]:
        """The shapes that may have one of `focus` among their targets on `data`."""
        return _reached(self.targeted(data, focus))

    def targeted(self, data: Graph, focus: list) -> dict[URIRef | BNode, list]:
        """For each shape with targets, the nodes of `focus` among them on `data` (all of
        `focus` for a shape whose targets this module cannot judge)."""
        judged = _Data(data)
        return {t.shape: t.reached(judged, focus) for t in self.targets}

    def validate(self, data: Graph, focus: list | None = None) -> Report:
        """Validate `data` in place, with every shape, or (given `focus`) with the shapes that
        can reach those nodes, each on the focus nodes among its targets only; the findings
        about other nodes are left out then."""
        use_shapes: list | None = None
        chosen: _Chosen | None = None
        if focus is not None:
            targeted = self.targeted(data, focus)
            use_shapes = _reached(targeted)
            if not use_shapes:
                return Report()
            if any(isinstance(shape, BNode) for shape in use_shapes):
                use_shapes = None  # pyshacl's use_shapes names shapes by IRI
            exact = {t.shape for t in self.targets if not t.anything}
            chosen = ({shape: set(nodes) for shape, nodes in targeted.items() if shape in exact},
                      set(focus))
        options = {**OPTIONS, "use_shapes": use_shapes}
        validator = Validator(DataGraph.from_rdflib(data), shacl_graph=self.graph, options=options)
        validator.shacl_graph = self.pyshacl  # the kept one, instead of the one just made
        token = _CHOSEN.set(chosen)
        try:
            _conforms, results, _text = validator.run()
        finally:
            _CHOSEN.reset(token)
        found = findings(results)
        if focus is not None:
            names = {str(f) for f in focus}
            found = [f for f in found if f.focus in names]
        return Report(findings=found)


_Chosen = tuple[dict, set]
"""The focus nodes among each judged shape's targets, and every focus node, of a validation."""
_CHOSEN: ContextVar[_Chosen | None] = ContextVar("kept_shapes_chosen", default=None)


class _FocusedShape(Shape):
    """A kept shape whose targets, while a validation of given focus nodes runs in this
    context, are those of the focus nodes it reaches (`KeptShapes.targeted`), instead of every
    target on the data graph.

    pyshacl calls `focus_nodes` only for a top-level shape (a nested one is handed its value
    nodes), so this changes which nodes are validated, not how: a result about a focus node is
    the same, and the extracted nodes beside it (hub cities with their types only, which the
    shapes would find incomplete) are no longer validated only to be dropped. A shape whose
    targets are not judged here keeps pyshacl's evaluation, restricted to the focus nodes."""

    __slots__ = ()

    def focus_nodes(self, data_graph, debug=False):
        chosen = _CHOSEN.get()
        if chosen is None:
            return super().focus_nodes(data_graph, debug=debug)
        reached, focus = chosen
        if self.node in reached:
            return reached[self.node]
        return {node for node in super().focus_nodes(data_graph, debug=debug) if node in focus}


def _in_oxigraph(data: Graph) -> ox.Store:
    """The triples of an rdflib graph in an in-memory pyoxigraph store (its default graph)."""
    store = ox.Store()
    store.extend(ox.Quad(ox_term(s), ox_term(p), ox_term(o))  # type: ignore[arg-type]
                 for s, p, o in data)
    return store


def _targets(shape) -> _Targets:
    nodes, classes, implicit, objects_of, subjects_of = shape.target()
    targets = _Targets(shape.node, set(nodes), {*classes, *implicit}, set(subjects_of),
                       set(objects_of))
    declared = list(shape.sg.objects(shape.node, SH.target))
    if not declared:
        return targets
    try:
        advanced = shape.advanced_target()
    except Exception:  # noqa: BLE001 - a target type pyshacl registers only while it runs
        advanced = {}
    for target in advanced.values():
        if target.get("type") == SH.SPARQLTarget:
            helper = target["qh"]
            targets.queries.append(helper.apply_prefixes(helper.select_text))
    if len(targets.queries) != len(declared):
        targets.anything = True
    return targets
