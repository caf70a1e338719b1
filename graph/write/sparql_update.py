"""A SPARQL 1.1 Update turned into a changeset, evaluated on a staging view of the store.

The update is parsed and translated by rdflib; each operation's WHERE clause is evaluated by
rdflib's engine over the staged store (pyoxigraph lookups corrected by what the earlier operations
of the request staged), and the templates are instantiated here. Nothing is written: the result is
the effective changeset, which goes through validation like every other write. Selective updates
(the usual editing ones) cost a few index lookups per pattern; an update that scans everything is
slow, as it would be in any store.

The Graph Store's default graph is the union of the named graphs, as for queries, so:
- triples inserted without GRAPH (and without WITH) go to the write graph (`CITYDIP_WRITE_GRAPH`);
- triples deleted without GRAPH (and without WITH) are deleted from every graph that holds them;
- CLEAR/DROP DEFAULT, NAMED and ALL would empty the ontology: refused like any other write to it.
LOAD and SERVICE are refused: the server never fetches from another host.

One module over 400 lines on purpose: the term conversions, the staged store seen as an rdflib
store and the evaluator of each update operation share how blank nodes, the union default graph
and the write graph are treated; they change together, and each part reads only beside the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import cast

import pyoxigraph as ox
import rdflib
from pyparsing import ParseBaseException
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID, Dataset
from rdflib.plugins.sparql.algebra import BGP, Join, translateUpdate
from rdflib.plugins.sparql.algebra import Graph as GraphPattern
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.evalutils import _fillTemplate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.sparql import QueryContext, SPARQLError
from rdflib.store import Store as RdflibStore

from graph.core.terms import ox_term
from graph.sparql.guard import _services, expand_escapes
from graph.sparql.limits import Bounds, LimitExceeded, check_nesting
from graph.store.protocol import QuadSource
from graph.write.changes import ChangeError, Changeset
from graph.write.payload import skolem_iri
from graph.write.policy import Policy
from graph.write.staging import Staged

_PARSE_LOCK = threading.Lock()
"""rdflib's literal normalisation is a module-wide switch; parsing holds it off, under a lock."""


SERVICE_REFUSED = "SERVICE is not allowed in updates: the server never queries other hosts"


class Refused(ChangeError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 403)


def parse(text: str, base: str | None = None, bounds: Bounds | None = None):
    """Parse and translate an update, keeping literals exactly as written ("01"^^xsd:integer)."""
    try:
        (bounds or Bounds()).check_update_size(text)
        check_nesting(expand_escapes(text), (bounds or Bounds()).max_nesting, "update")
    except LimitExceeded as exc:
        raise ChangeError(str(exc), exc.status) from None
    with _PARSE_LOCK:
        saved = rdflib.NORMALIZE_LITERALS
        rdflib.NORMALIZE_LITERALS = False
        try:
            tree = parseUpdate(text)
            if _services(tree):
                raise Refused(SERVICE_REFUSED)
            return translateUpdate(tree, base)
        except RecursionError:
            raise ChangeError("the update nests too deeply to be read; write it with fewer "
                              "nested groups or brackets") from None
        except ParseBaseException as exc:
            if "service" in expand_escapes(text).lower():
                # As graph.sparql.guard does: a SERVICE that cannot be ruled out is refused
                # (rdflib's
                # parser also fails on some SERVICE clauses next to IRIs with a '#').
                raise Refused(SERVICE_REFUSED) from None
            raise ChangeError(f"update syntax error: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - rdflib raises bare Exception (unknown prefix)
            if isinstance(exc, ChangeError):
                raise
            raise ChangeError(f"the update cannot be read: {exc}") from None
        finally:
            rdflib.NORMALIZE_LITERALS = saved


# --- terms -------------------------------------------------------------------------------------


def to_rdflib(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language, normalize=False)
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    if isinstance(term, ox.DefaultGraph):
        return DATASET_DEFAULT_GRAPH_ID
    raise TypeError(f"unexpected term {term!r}")


def to_ox(term, stored_bnodes: set[str]):
    """An rdflib term as pyoxigraph's (blank nodes not read from the store are new ones)."""
    if isinstance(term, BNode) and str(term) not in stored_bnodes:
        return term
    return ox_term(term)


# --- the staged store as an rdflib store (read-only: templates are applied here) --------------


class _View(RdflibStore):
    """The staged store seen by rdflib's query engine, with the dataset an operation names."""

    context_aware = True
    graph_aware = True
    formula_aware = False

    def __init__(self, staged: Staged, graphs: Callable[[], list[str]], bnodes: set[str],
                 default: list[str] | None = None, named: list[str] | None = None) -> None:
        super().__init__()
        self.staged, self.graphs, self.bnodes = staged, graphs, bnodes
        self.default = None if default is None else [ox.NamedNode(g) for g in default]
        self.named = None if named is None else set(named)
        self._namespaces: dict[str, URIRef] = {}

    def _graphs_for(self, context) -> list | None:
        """The pyoxigraph graphs a context stands for (None: every graph)."""
        identifier = getattr(context, "identifier", context)
        if identifier is None or identifier == DATASET_DEFAULT_GRAPH_ID or isinstance(
                identifier, BNode):
            return self.default
        if self.named is not None and str(identifier) not in self.named:
            return []
        return [ox.NamedNode(str(identifier))]

    def triples(self, triple_pattern, context=None) -> Iterator:
        s, p, o = (None if t is None or isinstance(t, Variable) else to_ox(t, self.bnodes)
                   for t in triple_pattern)
        if any(isinstance(t, BNode) for t in (s, p, o)):
            return  # a blank node the store never held matches nothing
        graphs = self._graphs_for(context)
        seen = set()
        for graph in [None] if graphs is None else graphs:
            for quad in self.staged.quads(s, p, o, graph):
                triple = (quad.subject, quad.predicate, quad.object)
                if triple in seen:
                    continue
                seen.add(triple)
                for term in triple:
                    if isinstance(term, ox.BlankNode):
                        self.bnodes.add(term.value)
                yield tuple(to_rdflib(t) for t in triple), iter(())

    def __len__(self, context=None) -> int:
        return sum(1 for _ in self.triples((None, None, None), context))

    def contexts(self, triple=None):
        names = self.graphs() if self.named is None else sorted(self.named)
        for name in names:
            yield Graph(store=self, identifier=URIRef(name))

    def add_graph(self, graph) -> None:
        pass

    def bind(self, prefix, namespace, override=True) -> None:
        self._namespaces[prefix] = namespace

    def prefix(self, namespace):
        return next((p for p, n in self._namespaces.items() if n == namespace), None)

    def namespace(self, prefix):
        return self._namespaces.get(prefix)

    def namespaces(self):
        yield from self._namespaces.items()


# --- evaluation --------------------------------------------------------------------------------


class UpdateEvaluator:
    """Stages one update request on `staged`, operation after operation."""

    def __init__(self, staged: Staged, graphs: Callable[[], Iterable[str]], write_graph: str,
                 policy: Policy, bounds: Bounds | None = None) -> None:
        self.bounds = bounds or Bounds()
        self.staged = staged
        self._stored_graphs = graphs
        self.write_graph = ox.NamedNode(write_graph)
        self.policy = policy
        self.bnodes: set[str] = set()

    def run(self, update, using: list[str] | None = None,
            using_named: list[str] | None = None) -> Changeset:
        protocol_dataset = bool(using or using_named)
        for op in update.algebra:
            name = op.name
            if name == "Load":
                raise Refused("LOAD is not allowed: the server never fetches data from other "
                              "hosts; send the triples themselves")
            if protocol_dataset and name == "Modify" and (op.using or op.withClause):
                raise ChangeError("using-graph-uri/using-named-graph-uri cannot be combined with "
                                  "USING, USING NAMED or WITH in the update (SPARQL 1.1 Protocol)")
            handler = getattr(self, f"_{name}", None)
            if handler is None:
                raise ChangeError(f"unsupported update operation {name}")
            if name in ("Modify", "DeleteWhere"):
                handler(op, using, using_named)
            else:
                handler(op)
        return self.staged.changeset()

    def graphs(self) -> list[str]:
        """The named graphs of the staged store (asked of the store only when a query needs it)."""
        # inserted quads are in named graphs
        return sorted(set(self._stored_graphs()) | {cast(ox.NamedNode, q.graph_name).value
                                                     for q in self.staged.added})

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _dataset(op, using, using_named) -> tuple[list[str] | None, list[str] | None]:
        """The WHERE clause's dataset: USING (or the protocol's using-*), WITH, or the store."""
        if op.using:
            return ([str(u.default) for u in op.using if u.default is not None],
                    [str(u.named) for u in op.using if u.named is not None])
        if using or using_named:
            return list(using or []), list(using_named or [])
        if op.withClause is not None:
            return [str(op.withClause)], None
        return None, None

    def _solutions(self, solutions: Iterable) -> list:
        """The WHERE clause's solutions, refused (413) past the triples a request may write."""
        kept = []
        for solution in solutions:
            kept.append(solution)
            if len(kept) > self.bounds.max_triples:
                raise ChangeError(str(self.bounds.too_many("the update's WHERE clause (in "
                                                           "solutions)")), 413)
        return kept

    def _context(self, default: list[str] | None, named: list[str] | None, prologue):
        view = _View(self.staged, self.graphs, self.bnodes, default, named)
        ctx = QueryContext(Dataset(store=view, default_union=True), initBindings={})
        ctx.prologue = prologue
        return ctx

    def _named(self, term) -> ox.NamedNode:
        if not isinstance(term, URIRef):
            raise ChangeError(f"a graph name must be an IRI, not {term}")
        return ox.NamedNode(str(term))

    def _quads(self, triples, graph, solution=None) -> list[ox.Quad]:
        """Instantiated template triples as quads (unbound or ill-formed ones left out)."""
        filled = _fillTemplate(triples, solution) if solution is not None else triples
        items = []
        for triple in filled:
            terms = [to_ox(t, self.bnodes) for t in triple]
            if None in terms or isinstance(terms[0], ox.Literal) or not isinstance(
                    terms[1], ox.NamedNode):
                continue
            items.append((terms, graph))
        return self._skolemized(items)

    @staticmethod
    def _skolemized(items) -> list[ox.Quad]:
        """Quads whose new blank nodes (rdflib BNodes, never read from the store) become skolem
        IRIs, one per node; blank nodes read from the store stay as they are."""
        names: dict[str, ox.NamedNode] = {}

        def fix(term):
            if isinstance(term, BNode):
                if str(term) not in names:
                    names[str(term)] = skolem_iri()
                return names[str(term)]
            return term

        return [ox.Quad(fix(s), p, fix(o), graph) for (s, p, o), graph in items]

    def _delete(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        self.policy.refuse_request(remove=quads)
        for quad in quads:
            if isinstance(quad.graph_name, ox.DefaultGraph):
                stored = list(self.staged.quads(quad.subject, quad.predicate, quad.object))
                self.policy.refuse_request(remove=stored)
                for found in stored:
                    self.staged.remove(found)
            else:
                self.staged.remove(quad)

    def _insert(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        self.policy.refuse_request(add=quads)
        for quad in quads:
            self.staged.add(quad)

    def _template(self, clause, solution, default_graph) -> list[ox.Quad]:
        if clause is None:
            return []
        quads = self._quads(clause.triples or [], default_graph, solution)
        for graph_term, triples in (clause.quads or {}).items():
            graph = solution.get(graph_term) if isinstance(graph_term, Variable) else graph_term
            if isinstance(graph, URIRef):
                quads += self._quads(triples, ox.NamedNode(str(graph)), solution)
        return quads

    # --- the operations --------------------------------------------------------------------

    def _InsertData(self, op) -> None:  # noqa: N802
        items = [([to_ox(t, set()) for t in triple], self.write_graph)
                 for triple in op.triples or []]
        for graph, triples in (op.quads or {}).items():
            items += [([to_ox(t, set()) for t in triple], self._named(graph))
                      for triple in triples]
        self._insert(self._skolemized(items))

    def _DeleteData(self, op) -> None:  # noqa: N802
        # a triple's three terms, then the graph: mypy cannot count the starred terms
        quads = [ox.Quad(*(to_ox(t, self.bnodes) for t in triple),  # type: ignore[call-arg]
                         ox.DefaultGraph())
                 for triple in op.triples or []]
        for graph, triples in (op.quads or {}).items():
            quads += [ox.Quad(*(to_ox(t, self.bnodes) for t in triple),  # type: ignore[call-arg]
                              self._named(graph))
                      for triple in triples]
        self._delete(quads)

    def _DeleteWhere(self, op, using=None, using_named=None) -> None:  # noqa: N802
        where = BGP(triples=op.triples or [])
        for graph_term, triples in (op.quads or {}).items():
            where = Join(where, GraphPattern(graph_term, BGP(triples=triples)))
        ctx = self._context(*self._dataset(op, using, using_named), op.prologue)
        solutions = self._solutions(evalPart(ctx, where))
        for solution in solutions:
            quads = self._quads(op.triples or [], ox.DefaultGraph(), solution)
            for graph_term, triples in (op.quads or {}).items():
                graph = solution.get(graph_term) if isinstance(graph_term, Variable) else (
                    graph_term)
                if isinstance(graph, URIRef):
                    quads += self._quads(triples, ox.NamedNode(str(graph)), solution)
            self._delete(quads)

    def _Modify(self, op, using=None, using_named=None) -> None:  # noqa: N802
        ctx = self._context(*self._dataset(op, using, using_named), op.prologue)
        solutions = self._solutions(evalPart(ctx, op.where))
        with_graph = self._named(op.withClause) if op.withClause is not None else None
        deletes, inserts = [], []
        for solution in solutions:
            deletes += self._template(op.delete, solution, with_graph or ox.DefaultGraph())
            inserts += self._template(op.insert, solution, with_graph or self.write_graph)
        self._delete(deletes)
        self._insert(inserts)

    def _graph_quads(self, target) -> list[ox.Quad]:
        if target == "DEFAULT" or target in ("NAMED", "ALL"):
            raise Refused(f"{target} stands for every graph, including the ontology, which "
                          "cannot be written; name the graph to change")
        return list(self.staged.quads(None, None, None, self._named(target)))

    def _Clear(self, op) -> None:  # noqa: N802
        self._delete(self._graph_quads(op.graphiri))

    _Drop = _Clear

    def _Create(self, op) -> None:  # noqa: N802
        if not op.silent and self._graph_quads(op.graphiri):
            raise ChangeError(f"graph <{op.graphiri}> already exists (use CREATE SILENT)")

    def _copy(self, op, clear_target: bool, clear_source: bool) -> None:
        source, target = op.graph
        if source == target:
            return
        if target == "DEFAULT":
            raise Refused("the default graph is the union of every graph; copy into a named graph")
        src = (list(self.staged.quads(None, None, None, None)) if source == "DEFAULT"
               else self._graph_quads(source))
        destination = self._named(target)
        if clear_target:
            self._delete(self._graph_quads(target))
        self._insert(ox.Quad(q.subject, q.predicate, q.object, destination) for q in src)
        if clear_source:
            self._delete(src)

    def _Add(self, op) -> None:  # noqa: N802
        self._copy(op, clear_target=False, clear_source=False)

    def _Copy(self, op) -> None:  # noqa: N802
        self._copy(op, clear_target=True, clear_source=False)

    def _Move(self, op) -> None:  # noqa: N802
        self._copy(op, clear_target=True, clear_source=True)


def update_changeset(source: QuadSource, text: str, graphs: Callable[[], Iterable[str]],
                     write_graph: str, policy: Policy, using: list[str] | None = None,
                     using_named: list[str] | None = None, base: str | None = None,
                     bounds: Bounds | None = None) -> Changeset:
    """The effective changeset of a SPARQL Update request against `source`."""
    update = parse(text, base, bounds)
    staged = Staged(source)
    try:
        return UpdateEvaluator(staged, graphs, write_graph, policy, bounds).run(
            update, using, using_named)
    except ChangeError:
        raise
    except (SPARQLError, NotImplementedError, ValueError, TypeError, KeyError) as exc:
        raise ChangeError(f"the update cannot be evaluated: {exc}") from None
