"""Parameters are bound by a VALUES block written into the query (graph/sparql_text.bind_values;
the keys of one page of a list by bind_rows).

The same text goes to the embedded store and to a remote one. A bound query must answer what the
unbound query answers for that value, and every named query must answer as it does with the
values written into its text as constants.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from endpoint.queries import inline_constants  # noqa: E402 - the benchmark's client-side rewrite

from graph.core.settings import Settings
from graph.sparql.catalogue import catalogue
from graph.sparql.text import bind_rows, bind_values, union_of
from graph.store.embedded import Store

ID = "https://w3id.org/citydiplomacy/id/"
GDYNIA = ox.NamedNode(ID + "city/gdynia")

SELECTS = [
    "SELECT ?actor ?p ?o WHERE { ?actor ?p ?o }",
    "SELECT * { ?actor ?p ?o FILTER (?p != <urn:x>) }",
    '# a comment with { braces }\nSELECT ?actor ?o WHERE { ?actor ?p ?o FILTER (?o != "}{") }',
    "PREFIX construct: <urn:c> SELECT ?actor ?construct { ?actor ?construct ?o }",
    "SELECT ?actor ?o WHERE { ?actor ?p ?o OPTIONAL { ?o ?q ?actor } }",
]
CONSTRUCTS = [
    "CONSTRUCT { ?actor <urn:said> ?o } WHERE { ?actor ?p ?o }",
    'CONSTRUCT { ?actor <urn:said> "{" } WHERE { ?actor ?p ?o }',
]


def _rows(result) -> list[str]:
    return sorted(str(s) for s in result)


@pytest.mark.parametrize("query", SELECTS)
def test_a_bound_select_answers_the_rows_of_that_value(store: Store, query: str) -> None:
    bound = _rows(store.raw.query(bind_values(query, {"actor": GDYNIA}),
                                  use_default_graph_as_union=True))
    everything = store.raw.query(query, use_default_graph_as_union=True)
    expected = sorted(str(s) for s in everything if s["actor"] == GDYNIA)
    assert bound == expected != []


@pytest.mark.parametrize("query", CONSTRUCTS)
def test_a_bound_construct_builds_the_triples_of_that_value(store: Store, query: str) -> None:
    bound = _rows(store.raw.query(bind_values(query, {"actor": GDYNIA}),
                                  use_default_graph_as_union=True))
    everything = store.raw.query(query, use_default_graph_as_union=True)
    expected = sorted({str(t) for t in everything if t.subject == GDYNIA})
    assert bound == expected != []


def test_bound_ask_and_describe(store: Store) -> None:
    ask = "ASK { ?actor a <https://w3id.org/citydiplomacy/ns#City> }"
    assert bool(store.query(ask, {"actor": GDYNIA})) is True
    assert bool(store.query(ask, {"actor": ox.NamedNode(ID + "person/nobody")})) is False
    described = _rows(store.query("DESCRIBE ?actor WHERE { ?actor ?p ?o }", {"actor": GDYNIA}))
    assert described == _rows(store.query(f"DESCRIBE <{GDYNIA.value}>")) != []


def test_bound_terms_are_escaped_never_pasted(store: Store) -> None:
    hostile = ox.Literal('x" } } ; DROP ALL ; SELECT * { "')
    query = bind_values("SELECT ?text ?copy WHERE { BIND (?text AS ?copy) }", {"text": hostile})
    (row,) = list(store.raw.query(query))
    assert row["text"] == hostile
    assert row["copy"] == hostile


@pytest.mark.parametrize("query", SELECTS)
def test_rows_bound_answer_the_rows_of_those_values(store: Store, query: str) -> None:
    everything = list(store.raw.query(query, use_default_graph_as_union=True))
    chosen = list(dict.fromkeys(s["actor"] for s in everything
                                if isinstance(s["actor"], ox.NamedNode)))[:3]
    hostile = ox.Literal('x" } ) ; DROP ALL ; SELECT * { "')
    bound = _rows(store.raw.query(bind_rows(query, ["actor"], [[a] for a in [*chosen, hostile]]),
                                  use_default_graph_as_union=True))
    assert bound == sorted(str(s) for s in everything if s["actor"] in chosen) != []
    assert _rows(store.raw.query(bind_rows(query, ["actor"], []),
                                 use_default_graph_as_union=True)) == []


NAMED = catalogue(Settings().queries_dir)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_queries_answer_as_with_the_value_written_in(store: Store, name: str) -> None:
    """The same rows as the text a client writes by hand with the values as constants
    (the benchmark's rewrite). pyoxigraph's own `substitutions` is no oracle: it leaves a
    substituted variable unbound in BIND, which officials-of uses."""
    query = NAMED[name]
    values = {p.name: p.example for p in query.params if p.example is not None}
    bindings = query.bindings(values)
    ours = store.raw.query(bind_values(query.text, bindings), use_default_graph_as_union=True)
    written = store.raw.query(inline_constants(query.text, bindings),
                              use_default_graph_as_union=True)
    if isinstance(ours, ox.QueryBoolean):
        assert bool(ours) == bool(written)
    else:
        assert _solutions(ours) == _solutions(written) != []


def _solutions(result: ox.QuerySolutions) -> list[tuple]:
    """Rows as comparable tuples; GROUP_CONCAT lists (any order) as sorted items."""
    names = [v.value for v in result.variables]
    return sorted(tuple(_value(s[n]) for n in names) for s in result)


def _value(term) -> tuple[str, ...]:
    if term is None:
        return ()
    return tuple(sorted(re.split(r", | ", term.value))) if isinstance(term, ox.Literal) \
        else (str(term),)


def test_parts_joined_by_union_answer_as_each_part_does() -> None:
    """`union_of`: a page's lists read as one query give each part's rows, named by the part,
    whatever prefixes, groups, limits and orders the parts have of their own."""
    store = Store()
    ns = "https://w3id.org/citydiplomacy/ns#"
    for i in range(5):
        store.raw.add(ox.Quad(ox.NamedNode(f"{ID}city/c{i}"), ox.NamedNode(f"{ns}partnerOf"),
                              GDYNIA, ox.NamedNode(f"{ID}graph/g")))
    parts = {
        "counted": f"PREFIX cd: <{ns}>\n"
                   "SELECT ?p (COUNT(?s) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
        "first": "# a comment first\nPREFIX c: <https://w3id.org/citydiplomacy/ns#>\n"
                 "SELECT ?s WHERE { ?s c:partnerOf ?o } ORDER BY DESC(?s) LIMIT 2",
        "bound": bind_values("SELECT ?s WHERE { ?s ?p ?o }", {"s": ox.NamedNode(f"{ID}city/c3")}),
    }
    found: dict[str, list] = {}
    solutions = store.query(union_of(parts))
    for s in solutions:
        found.setdefault(s["pagePart"].value, []).append(
            {v.value: s[v] for v in solutions.variables
             if s[v] is not None and v.value != "pagePart"})
    for name, text in parts.items():
        alone = store.query(text)
        assert found[name] == [{v.value: s[v] for v in alone.variables if s[v] is not None}
                               for s in alone], name
    assert [row["s"].value[-2:] for row in found["first"]] == ["c4", "c3"]
    with pytest.raises(ValueError, match="prefix cd:"):
        union_of({"a": "PREFIX cd: <urn:a#>\nSELECT * {}", "b": "PREFIX cd: <urn:b#>\nSELECT * {}"})
