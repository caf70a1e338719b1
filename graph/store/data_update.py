"""A changeset as one SPARQL Update (`DELETE DATA {…} ; INSERT DATA {…}`), for both stores.

One update request is the unit both stores apply atomically: pyoxigraph runs it as one transaction
(its Python API has no transaction that both removes and adds), and an Oxigraph, Fuseki or
Virtuoso server likewise per request. The text is written by pyoxigraph's own serializers (the
quads as N-Triples, graph names as terms), never pasted from strings, so no term can change the
shape of the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import pyoxigraph as ox


def data_update(removed: Iterable[ox.Quad], added: Iterable[ox.Quad]) -> str:
    """One SPARQL Update that removes, then adds, these quads ("" when both are empty).

    One DELETE DATA operation per graph: Virtuoso 7 leaves a language-tagged literal in place
    when it is in any but the first GRAPH block of a DELETE DATA (and answers 200).
    """
    parts = [f"DELETE DATA {{ {graph_block(graph, triples)} }}"
             for graph, triples in _by_graph(removed).items()]
    added = list(added)
    if added:
        parts.append(f"INSERT DATA {{ {_blocks(added)} }}")
    return " ;\n".join(parts)


def graph_block(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph,
                triples: Iterable[ox.Triple]) -> str:
    """Triples as the body of a data block: in `GRAPH <g> {…}`, or bare for the default graph."""
    body = cast(bytes, ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)).decode("utf-8")
    return body if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{\n{body}}}"


def _blocks(quads: Iterable[ox.Quad]) -> str:
    return "\n".join(graph_block(graph, triples) for graph, triples in _by_graph(quads).items())


def _by_graph(quads: Iterable[ox.Quad]) -> dict[ox.NamedNode | ox.BlankNode | ox.DefaultGraph,
                                                  list[ox.Triple]]:
    by_graph: dict[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[ox.Triple]] = {}
    for quad in quads:
        by_graph.setdefault(quad.graph_name, []).append(ox.Triple(quad.subject, quad.predicate,
                                                                  quad.object))
    return by_graph
