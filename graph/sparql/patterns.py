"""What a query reads: the triple patterns it matches, to tell whether a write could change it.

Why: the answers of the endpoint's repeated queries are kept until a write changes them
(server/page_cache.py), as the entity pages are. A query's answer is a function of the quads its
triple patterns match, so a write none of whose quads matches any of the query's patterns leaves
the answer as it was. Editors write a few resources at a time: at six writes a second, a lookup
about one city of hundreds was run again after nearly every write though none touched it, in a
thread whose hand-off back to a busy event loop cost it 33 ms (p50) against 5 ms without
writes (docs/benchmarks.md, "A live service").

A pattern is a subject, a predicate and an object, each an IRI or None (anything). Variables and
blank nodes are anything, and so are literals (one value has many lexical forms, so only IRIs are
compared) and relative IRIs. A property path is one pattern per IRI it names, with anything at
its ends; a path that may be empty (`*`, `?`) matches every node of the graph, and a negated set
any predicate, so either reads every quad. So does what patterns do not describe: a GRAPH clause
without a pattern (it lists graphs), SERVICE, DESCRIBE, EXISTS (rdflib leaves its pattern as
parsed), and a query this parser does not read. A query whose answer changes by itself (NOW,
RAND, UUID, STRUUID, BNODE) has no patterns that could say when (`answer_patterns` is None).

The test is conservative: a write reaches a pattern when each of the pattern's IRIs is among the
write's subjects, predicates or objects (not necessarily of one quad).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from graph.sparql.guard import expand_escapes

Pattern = tuple[str | None, str | None, str | None]
ANY: Pattern = (None, None, None)
"""The pattern every quad matches: the query may read anything."""

CHANGING = {"Builtin_NOW", "Builtin_RAND", "Builtin_UUID", "Builtin_STRUUID", "Builtin_BNODE"}
"""Functions whose value differs from one evaluation to the next."""
_CHANGING_TEXT = re.compile(r"(?i)\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(")
"""The same, looked for in the text first (in a string or a comment too: then not kept), so
that no part of a query this module does not read can hide one."""


class _ReadsAnything(Exception):
    pass


class _Changing(Exception):
    pass


def answer_patterns(text: str) -> tuple[Pattern, ...] | None:
    """The triple patterns of a query; None when its answer changes by itself (NOW(), ...).

    A parse takes rdflib milliseconds (2 ms for a lookup, 37 ms for `partners-of`): callers ask
    for queries that repeat, and remember the answer."""
    if _CHANGING_TEXT.search(expand_escapes(text)):
        return None
    try:
        query = translateQuery(parseQuery(text))
    except Exception:  # noqa: BLE001 - what rdflib cannot read is presumed to read anything
        return (ANY,)
    found: list[Pattern] = []
    try:
        if query.algebra.name not in ("SelectQuery", "AskQuery", "ConstructQuery"):
            raise _ReadsAnything
        _walk(query.algebra, found)
    except _ReadsAnything:
        return (ANY,)
    except _Changing:
        return None
    return tuple(dict.fromkeys(found))


def _walk(node: object, found: list[Pattern]) -> None:
    if isinstance(node, CompValue):
        if node.name in CHANGING:
            raise _Changing
        if node.name in ("ServiceGraphPattern", "DescribeQuery", "TriplesBlock"):
            raise _ReadsAnything  # TriplesBlock: a pattern left as parsed (EXISTS), not read here
        if node.name == "BGP":
            for triple in node.get("triples") or ():
                found.extend(_triple(*triple))
        before = len(found)
        for key, value in node.items():
            if key != "_vars":
                _walk(value, found)
        if node.name == "Graph" and len(found) == before:
            raise _ReadsAnything  # GRAPH ?g {} lists the graphs
    elif isinstance(node, list | tuple):
        for item in node:
            _walk(item, found)


def _triple(subject: object, predicate: object, object_: object) -> list[Pattern]:
    if isinstance(predicate, Path):
        return [(None, iri, None) for iri in _path_iris(predicate)]
    return [(_iri(subject), _iri(predicate), _iri(object_))]


def _path_iris(path: object) -> list[str | None]:
    if isinstance(path, URIRef):
        return [_iri(path)]
    if isinstance(path, SequencePath | AlternativePath):
        return [iri for arg in path.args for iri in _path_iris(arg)]
    if isinstance(path, InvPath):
        return _path_iris(path.arg)
    if isinstance(path, MulPath):
        if path.zero:
            raise _ReadsAnything  # p* and p? match every node, with or without a p
        return _path_iris(path.path)
    if isinstance(path, NegatedPath):
        return [None]
    raise _ReadsAnything


def _iri(term: object) -> str | None:
    if isinstance(term, URIRef) and urlsplit(str(term)).scheme:
        return str(term)
    return None


@dataclass(frozen=True)
class Touched:
    """What one write touched: its IRIs as subjects, predicates and objects."""

    quads: int
    subjects: frozenset[str]
    predicates: frozenset[str]
    objects: frozenset[str]

    @classmethod
    def of(cls, quads: Iterable[ox.Quad]) -> Touched:
        n, subjects, predicates, objects = 0, set(), set(), set()
        for quad in quads:
            n += 1
            if isinstance(quad.subject, ox.NamedNode):
                subjects.add(quad.subject.value)
            predicates.add(quad.predicate.value)
            if isinstance(quad.object, ox.NamedNode):
                objects.add(quad.object.value)
        return cls(n, frozenset(subjects), frozenset(predicates), frozenset(objects))

    def reaches(self, patterns: Iterable[Pattern]) -> bool:
        """Whether a quad of this write may match one of the patterns."""
        return self.quads > 0 and any(
            (s is None or s in self.subjects) and (p is None or p in self.predicates)
            and (o is None or o in self.objects) for s, p, o in patterns)
