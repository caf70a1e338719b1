"""Changesets: every write becomes a set of quads to add and a set to remove.

A changeset is computed against the current store and is *effective*: every added quad is absent
before, every removed quad is present before. That makes it exactly invertible (a revert, or
`export --as-of`, undoes it without guessing) and makes replaying the history deterministic.

The rest of the write path sits beside this model, one concept a module: reading request bodies
into quads (graph.write.payload), what may not be written (graph.write.policy), and the editors'
changeset document (graph.write.document).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import pyoxigraph as ox

from graph.core import namespaces
from graph.store.protocol import QuadSource

META_GRAPH = ox.NamedNode(str(namespaces.META_GRAPH))
"""Bookkeeping of the write path (the last applied change); never written by editors."""


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


# --- effective changes -----------------------------------------------------------------------


def present(source: QuadSource, quad: ox.Quad) -> bool:
    return any(True for _ in source.quads_for_pattern(
        quad.subject, quad.predicate, quad.object, quad.graph_name))


def effective(source: QuadSource, add: Iterable[ox.Quad], remove: Iterable[ox.Quad]) -> Changeset:
    """What removing, then adding, these quads really changes in `source`.

    A quad to remove in the default graph means the triple in whichever graph holds it (the
    default graph is their union; the store's own default graph holds only files loaded in bulk,
    graph.store.load, which the policy then refuses to edit). A quad both removed and added stays
    as it is.
    """
    add = {canonical(q) for q in add}
    removed: set[ox.Quad] = set()
    for quad in map(canonical, remove):
        if isinstance(quad.graph_name, ox.DefaultGraph):
            removed.update(source.quads_for_pattern(
                quad.subject, quad.predicate, quad.object, None))
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
