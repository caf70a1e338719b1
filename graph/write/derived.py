"""Refreshing the derived shortcuts for one change, without re-running the rules on everything.

Every rule in `queries/rules/` derives `?a <shortcut> ?b` from one partnership node `?p` with
`?p cd:party ?a , ?b`, reading only `?p`'s own triples (its kinds, status, relation kind, parties)
and the class hierarchy. So a shortcut between `a` and `b` can change only if some partnership that
the change touches has (had) both as parties; and its new value follows from the partnerships that
have both. The refresh runs the rules themselves (the same files as a full load) on a scratch store
holding just those partnerships, and compares with the shortcuts graph for those pairs.
The property-based test checks the result against a full re-materialisation after every change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import CD, SHORTCUTS_GRAPH
from graph.write.changes import Changeset
from graph.write.staging import Staged

PARTY = ox.NamedNode(str(CD["party"]))
SHORTCUTS = ox.NamedNode(str(SHORTCUTS_GRAPH))


RULE = re.compile(r"^(?P<prologue>(?:\s*(?:#[^\n]*|PREFIX\s+[^\n]*))*)\s*"
                  r"CONSTRUCT\s*\{\s*\?a\s+(?P<shortcut>[^\s{}]+)\s+\?b\s*\.?\s*\}\s*"
                  r"WHERE\s*\{(?P<body>.*)\}\s*$", re.S)
PREFIX = re.compile(r"PREFIX\s+([^\s:]*):\s*<([^>]*)>")


def load_rules(rules_dir: Path) -> list[str]:
    """The rules of `rules_dir`, as one query if they allow it (`combined`)."""
    return combined([path.read_text(encoding="utf-8") for path in sorted(rules_dir.glob("*.rq"))])


def combined(rules: list[str]) -> list[str]:
    """Rules of the form `CONSTRUCT { ?a <shortcut> ?b } WHERE { … }` as ONE query: each rule's
    WHERE a branch of a UNION that binds its shortcut. A write's thread runs the rules on a
    scratch store, and each query hands the interpreter over, which beside a busy event loop
    costs up to a whole switch interval. The rules as they are if any has another form or two
    name a prefix differently."""
    prefixes: dict[str, str] = {}
    branches = []
    for rule in rules:
        found = RULE.match(rule)
        if found is None:
            return rules
        for name, iri in PREFIX.findall(found["prologue"]):
            if prefixes.setdefault(name, iri) != iri:
                return rules
        branches.append(f"{{ {found['body']}\n  BIND ({found['shortcut']} AS ?shortcut) }}")
    if len(branches) < 2:
        return rules
    prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes.items())
    return [f"{prologue}CONSTRUCT {{ ?a ?shortcut ?b }}\nWHERE {{\n"
            + "\n  UNION\n".join(branches) + "\n}\n"]


def refresh_shortcuts(view: Staged, change: Changeset, rules: list[str],
                      hierarchy: Iterable[ox.Triple]) -> Changeset:
    """The change to the shortcuts graph that `change` (staged in `view`) implies."""
    touched = {q.subject for q in change.quads()}
    pairs: set[tuple] = set()
    for node in touched:
        parties = view.objects(node, PARTY, superset=True)
        pairs.update((a, b) for a in parties for b in parties if a != b)
    if not pairs:
        return Changeset()

    partnerships: set = set()
    for a, b in {tuple(sorted(pair, key=str)) for pair in pairs}:
        with_a = view.subjects(PARTY, a)
        partnerships.update(p for p in view.subjects(PARTY, b) if p in with_a)
    scratch = ox.Store()  # filled in one call: each call to the engine hands the interpreter over
    scratch.extend([*(ox.Quad(t.subject, t.predicate, t.object) for t in hierarchy),
                    *(ox.Quad(s, p, o) for node in partnerships for s, p, o in view.triples(node))])

    derived = set()
    for rule in rules:
        for triple in cast(ox.QueryTriples, scratch.query(rule)):  # the rules are CONSTRUCTs
            if (triple.subject, triple.object) in pairs:
                derived.add(ox.Quad(triple.subject, triple.predicate, triple.object, SHORTCUTS))
    current = {q for a, b in pairs for q in view.quads(a, None, b, SHORTCUTS)}
    return Changeset(frozenset(derived - current), frozenset(current - derived))
