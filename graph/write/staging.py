"""A staging view: the store as it would be after a change, without writing anything.

Reads go to the store (any QuadSource of graph.store.protocol: the embedded store, the remote one
through SPARQL, or another staging view) and are corrected by the staged quads. The `superset`
reading (before ∪ added) is what the incremental validation walks to find who might be affected:
a link that the change removes still counts, since the node at its other end may have depended
on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from graph.store.protocol import QuadSource
from graph.write.changes import Changeset, canonical


class Staged:
    """The store with `added` quads present and `removed` quads absent."""

    def __init__(self, source: QuadSource, added: Iterable[ox.Quad] = (),
                 removed: Iterable[ox.Quad] = ()):
        self.source = source
        self.added: set[ox.Quad] = set()
        self.removed: set[ox.Quad] = set()
        self._by_subject: dict = defaultdict(set)
        self._by_object: dict = defaultdict(set)
        self._by_predicate: dict = defaultdict(set)
        for quad in removed:
            self.remove(quad)
        for quad in added:
            self.add(quad)

    # --- staging writes (effective by construction) ------------------------------------------

    def _present_in_source(self, quad: ox.Quad) -> bool:
        return any(True for _ in self.source.quads_for_pattern(
            quad.subject, quad.predicate, quad.object, quad.graph_name))

    def add(self, quad: ox.Quad) -> None:
        quad = canonical(quad)
        if quad in self.removed:
            self.removed.discard(quad)
        elif quad not in self.added and not self._present_in_source(quad):
            self.added.add(quad)
            self._by_subject[quad.subject].add(quad)
            self._by_object[quad.object].add(quad)
            self._by_predicate[quad.predicate].add(quad)

    def remove(self, quad: ox.Quad) -> None:
        quad = canonical(quad)
        if quad in self.added:
            self.added.discard(quad)
            self._by_subject[quad.subject].discard(quad)
            self._by_object[quad.object].discard(quad)
            self._by_predicate[quad.predicate].discard(quad)
        elif quad not in self.removed and self._present_in_source(quad):
            self.removed.add(quad)

    def changeset(self) -> Changeset:
        return Changeset(frozenset(self.added), frozenset(self.removed))

    # --- reading ---------------------------------------------------------------------------

    def quads(self, subject=None, predicate=None, object=None, graph=None,
              superset: bool = False) -> Iterator[ox.Quad]:
        """Quads matching the pattern after the change (with `superset`: before or after)."""
        for quad in self.source.quads_for_pattern(subject, predicate, object, graph):
            if superset or quad not in self.removed:
                yield quad
        if not self.added:
            return
        if subject is not None:
            candidates: Iterable[ox.Quad] = self._by_subject.get(subject, ())
        elif object is not None:
            candidates = self._by_object.get(object, ())
        elif predicate is not None:
            candidates = self._by_predicate.get(predicate, ())
        else:
            candidates = self.added
        for quad in list(candidates):
            if ((predicate is None or quad.predicate == predicate)
                    and (object is None or quad.object == object)
                    and (subject is None or quad.subject == subject)
                    and (graph is None or quad.graph_name == graph)):
                yield quad

    # The write path only reads through quads_for_pattern, so a Staged view can itself be the
    # source of another one (the derived shortcuts staged on top of the editor's change).
    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph=None):
        return self.quads(subject, predicate, object, graph)

    def triples(self, subject=None, predicate=None, object=None,
                superset: bool = False) -> set[tuple]:
        """Matching triples of the union of all graphs (each once)."""
        return {(q.subject, q.predicate, q.object)
                for q in self.quads(subject, predicate, object, None, superset)}

    def objects(self, subject, predicate, superset: bool = False) -> set:
        return {q.object for q in self.quads(subject, predicate, None, None, superset)}

    def subjects(self, predicate, object, superset: bool = False) -> set:
        return {q.subject for q in self.quads(None, predicate, object, None, superset)}


_conforms: type[QuadSource] = Staged
"""mypy checks here that a staging view is a QuadSource (graph.store.protocol)."""
