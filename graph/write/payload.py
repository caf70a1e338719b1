"""Request bodies read into quads: bounded, blank nodes made removable.

Every write path that takes RDF text (Graph Store bodies, changeset documents, data files given
to `citydip apply`) reads it here, so that all of them are bounded alike (graph.sparql.limits:
nesting and entity declarations checked before the parser runs, then triples and memory counted
while it streams) and all of them give blank nodes skolem IRIs: SPARQL's DELETE DATA cannot name a
blank node, so one written into the store could never be removed or reverted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pyoxigraph as ox

from graph.core.namespaces import SKOLEM
from graph.sparql import formats
from graph.sparql.limits import Bounds, LimitExceeded, MemoryBudget
from graph.write.changes import ChangeError, canonical


def rdf_format(name: str | None, default: ox.RdfFormat | None = None) -> ox.RdfFormat:
    """The RDF format for a media type (`text/turtle; charset=utf-8`) or short name (`ttl`);
    415 for anything else."""
    key = (name or "").split(";")[0].strip().lower()
    if not key and default is not None:
        return default
    fmt = formats.rdf_format(key)
    if fmt is None:
        raise ChangeError(f"unsupported RDF format {key or '(none)'}: send Turtle, N-Triples, "
                          "JSON-LD, TriG, N-Quads or RDF/XML", 415)
    return fmt


def parse_rdf(data: bytes | str, fmt: ox.RdfFormat, graph: ox.NamedNode | ox.DefaultGraph,
              base_iri: str | None = None, bounds: Bounds | None = None) -> list[ox.Quad]:
    """Parse a payload; its default-graph triples go to `graph`, blank nodes become skolem IRIs.

    Bounded (graph.sparql.limits): nesting and entity declarations are checked before the parser
    runs, then the payload is read as a stream, stopped past the triples and the memory it may
    take.
    """
    bounds = bounds or Bounds()
    what = f"the {fmt.name} payload"
    quads: list[ox.Quad] = []
    if isinstance(data, str):  # JSON's \ud800 escapes decode to lone surrogates: no UTF-8
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ChangeError(f"{what} holds a lone surrogate ({data[exc.start]!r} at "
                              f"character {exc.start}), which is not a character: write the "
                              "character itself or its escape as one \\UXXXXXXXX") from None
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
    return ox.NamedNode(SKOLEM + uuid.uuid4().hex)


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
