"""Which resources' pages a committed change can change: the kept pages a write must drop.

Why it exists: the kept pages (server/page_cache.py) were all dropped at every write, so two
editors posting a few changes a second left the readers with no kept page at all. An entity
page is a function of a small part of the graph, near its resource, so a change drops only the
pages that read a triple it added or removed. This module says which, from the change (the
quads it added and removed, the derived shortcuts included) and the store just after it,
under the write lock. It answers `None` ("every page") whenever it is not sure.

What the page of a resource R reads (server/routes/entities.py, queries/pages/*.rq,
queries/source-of.rq, the label index of graph/store/labels.py) and so which changed quad
(s, p, o) reaches it:

- its statements out (R ? ?, any graph: the shortcuts graph marks derived ones) and in
  (? ? R), its labels and types, its description in RDF: R = s or R = o;
- its partnerships: P = R or P cd:party R, with P's types, kind, dates, status and
  participants: every quad about P reaches P and the parties of P;
- its passages: those of R and of every statement S that points at R, with their quote,
  lines, section and report title: `S prov:wasDerivedFrom Y` reaches S and what S points at;
  a quad about a passage Y reaches the statements derived from Y and what they point at; a
  quad about a report reaches every page that quotes it (every page: a report is quoted
  across the graph);
- the map link: a partner of R (through a partnership of both as parties) with geo:lat and
  geo:long: a geo quad about s reaches the parties of the partnerships s is a party to;
- the names it shows (rdfs:label, skos:altLabel through the label index) of everything on it:
  a label quad about s reaches every resource one step from s either way, the parties of the
  partnerships that name s (as a participant, status, kind or type), and every page when s
  is a property in use (it is named beside every statement that uses it).

What cannot be followed cheaply is "every page": a blank node or quoted triple in a change
(a description follows blank nodes), a change to the class or property hierarchy (an
agreement's kind), a change larger than MAX_QUADS or reaching more than MAX_PAGES resources.
The store holds the data after the change; the data before it is the store minus the added
quads plus the removed ones, so looking up in the store and in the removed quads covers both.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from graph.core.namespaces import CD
from graph.core.terms import RDFS_SUBCLASS_OF, RDFS_SUBPROPERTY_OF
from graph.store.labels import LABEL_PREDICATES

MAX_QUADS = 2000
"""A change with more quads than this drops every page (a graph replaced, a big import)."""
MAX_PAGES = 5000
"""A change reaching more resources than this drops every page."""

PARTY = ox.NamedNode(str(CD["party"]))
DERIVED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
QUOTED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasQuotedFrom")
GEO = {ox.NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#lat"),
       ox.NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#long")}
HIERARCHY = {RDFS_SUBCLASS_OF, RDFS_SUBPROPERTY_OF}
NAMES = set(LABEL_PREDICATES)


class Everything(Exception):
    """The change reaches every page (or more than it is worth following)."""


class Lookup:
    """Quads by pattern in the data before and after a change: the store (after) and the
    removed quads (the rest of before)."""

    def __init__(self, store, removed: Iterable[ox.Quad]) -> None:
        self.store = store
        self.by: dict[tuple[int, object], list[ox.Quad]] = {}
        for quad in removed:
            for at, term in enumerate((quad.subject, quad.predicate, quad.object)):
                self.by.setdefault((at, term), []).append(quad)
        self.seen: dict[tuple, list[ox.Quad]] = {}
        """Each pattern's quads, looked up once: a change's quads share their subjects, and
        each quad asks the same few patterns about its subject."""
        self.present: dict[tuple, bool] = {}

    def quads(self, s=None, p=None, o=None) -> list[ox.Quad]:
        """Every pattern asked here binds one or two of the three."""
        found = self.seen.get((s, p, o))
        if found is None:
            found = [*self.store.quads_for_pattern(s, p, o, None), *self._removed(s, p, o)]
            self.seen[(s, p, o)] = found
        return found

    def _removed(self, s, p, o) -> list[ox.Quad]:
        at, term = next((at, t) for at, t in enumerate((s, p, o)) if t is not None)
        return [quad for quad in self.by.get((at, term), ())
                if (s is None or quad.subject == s) and (p is None or quad.predicate == p)
                and (o is None or quad.object == o)]

    def subjects(self, p=None, o=None) -> set[ox.NamedNode]:
        return {q.subject for q in self.quads(None, p, o) if isinstance(q.subject, ox.NamedNode)}

    def objects(self, s, p=None) -> set[ox.NamedNode]:
        return {q.object for q in self.quads(s, p, None) if isinstance(q.object, ox.NamedNode)}

    def exists(self, s=None, p=None, o=None) -> bool:
        """Whether a quad matches (the first one only looked up: a property's may be many)."""
        key = (s, p, o)
        if key in self.seen:
            return bool(self.seen[key])
        if key not in self.present:
            self.present[key] = (
                next(iter(self.store.quads_for_pattern(s, p, o, None)), None) is not None
                or bool(self._removed(s, p, o)))
        return self.present[key]


def reached(store, added: Iterable[ox.Quad], removed: Iterable[ox.Quad]) -> set[str] | None:
    """The IRIs of the resources whose pages the change can change; None: every page."""
    added, removed = list(added), list(removed)
    if len(added) + len(removed) > MAX_QUADS:
        return None
    look = Lookup(store, removed)
    found: set[ox.NamedNode] = set()

    def add(nodes: Iterable[ox.NamedNode]) -> None:
        found.update(nodes)
        if len(found) > MAX_PAGES:
            raise Everything

    try:
        for quad in added + removed:
            _reach(look, quad, add)
    except Everything:
        return None
    return {node.value for node in found}


def _reach(look: Lookup, quad: ox.Quad, add) -> None:
    s, p, o = quad.subject, quad.predicate, quad.object
    if not isinstance(s, ox.NamedNode) or isinstance(o, (ox.BlankNode, ox.Triple)):
        raise Everything  # a description follows blank nodes: not worth following here
    if p in HIERARCHY:
        raise Everything  # an agreement's kind is read through the class hierarchy
    if look.exists(None, QUOTED_FROM, s):
        raise Everything  # a report: its title is on every page that quotes it
    add([s, p])
    if isinstance(o, ox.NamedNode):
        add([o])
    add(look.objects(s, PARTY))  # s as a partnership, on its parties' pages
    if p == DERIVED_FROM:  # s's passages, on the pages of what s points at
        add(look.objects(s))
    for statement in look.subjects(DERIVED_FROM, s):  # s as a passage
        add([statement])
        add(look.objects(statement))
    if p in GEO:  # s as a placed partner: the map link of its partners
        for partnership in look.subjects(PARTY, s):
            add(look.objects(partnership, PARTY))
    if p in NAMES:  # s's name, on every page that shows s
        if look.exists(None, s, None):
            raise Everything  # a property in use: named beside each of its statements
        naming = look.subjects(None, s)
        add(naming)
        add(look.objects(s))
        for partnership in naming:
            add(look.objects(partnership, PARTY))
