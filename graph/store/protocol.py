"""What the write path needs of a store, written down: `QuadSource` to read, `QuadStore` to write.

The embedded store (graph.store.embedded.Store), the remote one (graph.store.remote.RemoteStore)
and the staging view of a change (graph.write.staging.Staged) are read the same way, through
`quads_for_pattern`; the writer and the validation rely on nothing else to read. A store the
writer commits to also has a write lock, lists its graphs and applies a changeset with
`apply(removed, added)`, all of it or nothing: how (one transaction of the embedded engine, one
SPARQL Update request to a remote endpoint) is the store's own business, so that the history log
keeps only the log and the writer never builds query text.

Protocols, not a base class: the three classes share no code, and a structural type lets mypy
check each of them where it is defined (`_conforms` at the end of each module).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


class QuadSource(Protocol):
    """Something whose quads can be matched against a pattern."""

    def quads_for_pattern(self, subject: Term | None = None, predicate: Term | None = None,
                          object: Term | None = None,
                          graph: GraphName | None = None) -> Iterable[ox.Quad]:
        """The quads matching a pattern (None is a wildcard; graph None means every graph)."""
        ...


class QuadStore(QuadSource, Protocol):
    """A store the writer commits changesets to."""

    @property
    def lock(self) -> AbstractContextManager[object]:
        """Held while this process writes to the store."""
        ...

    def graphs(self) -> list[str]:
        """The IRIs of the named graphs that hold quads."""
        ...

    def apply(self, removed: Collection[ox.Quad], added: Collection[ox.Quad]) -> None:
        """Remove then add these quads atomically: all of the change is written, or nothing."""
        ...
