"""What the derived views that follow writes look up in a commit: types before and after, the
class tree.

Why a module of its own: the front page's counts (server/front_counts.py) and VoID's entities
and partitions (server/describe.py) both count resources by class, with subclasses, and both
move those counts from a commit's changeset (server/cache.py, `Derived.follow`) instead of
counting again. What a resource was typed with before the commit is what the store holds now,
less the quads the commit added, plus those it removed; the commit runs in the write's thread
under the write lock, so the store holds exactly the commit's version while these run.
"""

from __future__ import annotations

import pyoxigraph as ox

from graph.core.namespaces import CD
from graph.core.terms import RDF_TYPE, RDFS_SUBCLASS_OF
from server.cache import Change

COUNTRY = f"{CD}Country"
"""An area that is also a country is counted as a country, not an area."""
PAIR_LIST_ROW = f"{CD}PairListRow"
SOURCE_LINE = ox.NamedNode(f"{CD}sourceLine")
"""With the rows' class: what the pair lists' rows are counted by (not followed)."""


def types_now_and_before(change: Change, subject) -> tuple[set[str], set[str]]:
    """The classes (IRIs) `subject` is typed with in the named graphs after and before the
    commit."""
    now = {q for q in change.store.quads_for_pattern(subject, RDF_TYPE, None, None)
           if not isinstance(q.graph_name, ox.DefaultGraph)}
    before = (now - change.added) | {q for q in change.removed
                                     if q.subject == subject and q.predicate == RDF_TYPE
                                     and not isinstance(q.graph_name, ox.DefaultGraph)}

    def named(quads: set[ox.Quad]) -> set[str]:
        return {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}

    return named(now), named(before)


def typed_subjects(change: Change) -> set:
    """The subjects whose `rdf:type` statements in the named graphs the commit changed."""
    return {q.subject for q in change.added | change.removed
            if q.predicate == RDF_TYPE and not isinstance(q.graph_name, ox.DefaultGraph)
            and not isinstance(q.subject, ox.Triple)}


def classes_below(change: Change, roots: dict[str, str]) -> dict[str, set[str]]:
    """For each name's root class, the root and every class below it (`rdfs:subClassOf*`) in
    the store after the commit (the tree read once, kept while no commit changes it)."""
    narrower: dict[str, set[str]] | None = change.looked_up.get("narrower")
    if narrower is None:
        narrower = {}
        for q in change.store.quads_for_pattern(None, RDFS_SUBCLASS_OF, None, None):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                narrower.setdefault(q.object.value, set()).add(q.subject.value)
        change.looked_up["narrower"] = narrower
    below: dict[str, set[str]] = {}
    for name, root in roots.items():
        found, todo = {root}, [root]
        while todo:
            for cls in narrower.get(todo.pop(), ()):
                if cls not in found:
                    found.add(cls)
                    todo.append(cls)
        below[name] = found
    return below


def member(types: set[str], classes: set[str], unless: str | None = None) -> bool:
    """Typed with one of `classes`, and not with `unless` (an area that is also a country is
    not counted as an area)."""
    return bool(types & classes) and unless not in types
