"""What a query reads (its triple patterns) and whether a write's quads may match them: the
inline repeats of the cheap lane stay on the event loop only across writes that do not."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.sparql.patterns import ANY, Touched, answer_patterns

X = "https://example.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIX = f"PREFIX x: <{X}> "


def touched(*triples: tuple[str, str, str | ox.Literal]) -> Touched:
    def term(value):
        return value if isinstance(value, ox.Literal) else ox.NamedNode(X + value)
    return Touched.of(ox.Quad(term(s), ox.NamedNode(X + p), term(o), ox.NamedNode(X + "g"))
                      for s, p, o in triples)


def test_a_lookup_reads_the_quads_of_its_subject() -> None:
    patterns = answer_patterns(f"SELECT ?p ?o WHERE {{ <{X}a> ?p ?o }}")
    assert patterns == ((X + "a", None, None),)
    assert touched(("a", "p", "b")).reaches(patterns)
    assert not touched(("b", "p", "a"), ("c", "p", ox.Literal("a"))).reaches(patterns)
    assert not touched().reaches(patterns)


def test_prefixed_names_types_and_blank_nodes() -> None:
    patterns = answer_patterns(PREFIX + "SELECT * { ?s a x:City ; x:name [ x:lang ?l ] }")
    assert set(patterns) == {(None, RDF_TYPE, X + "City"), (None, X + "name", None),
                             (None, X + "lang", None)}


def test_literals_and_relative_iris_are_compared_as_anything() -> None:
    assert answer_patterns(f'SELECT * {{ ?s <{X}p> "1" }}') == ((None, X + "p", None),)
    assert answer_patterns(f"BASE <{X}> SELECT * {{ <a> ?p ?o }}") == ((X + "a", None, None),)


def test_a_path_reads_each_predicate_it_names() -> None:
    patterns = answer_patterns(PREFIX + "SELECT * { ?s x:a/^x:b|x:c+ ?o }")
    assert set(patterns) == {(None, X + "a", None), (None, X + "b", None), (None, X + "c", None)}
    assert touched(("q", "c", "r")).reaches(patterns)
    assert not touched(("a", "d", "b")).reaches(patterns)


@pytest.mark.parametrize("query", [
    PREFIX + "SELECT * { ?s x:a* ?o }",  # a zero-length path matches every node
    PREFIX + "SELECT * { ?s x:a? ?o }",
    PREFIX + "SELECT * { ?s !x:a ?o }",
    "SELECT * { GRAPH ?g { } }",  # lists the graphs
    f"SELECT * {{ SERVICE <{X}sparql> {{ ?s ?p ?o }} }}",
    f"DESCRIBE <{X}a>",
    f"ASK {{ FILTER NOT EXISTS {{ <{X}a> <{X}p> ?o }} }}",
    "SELECT * { ?s ?p ?o }",
    "not a query",
])
def test_what_may_read_any_quad(query: str) -> None:
    assert ANY in answer_patterns(query)
    assert touched(("u", "v", "w")).reaches(answer_patterns(query))


def test_every_part_of_a_query_is_read() -> None:
    patterns = answer_patterns(
        f"SELECT ?s (COUNT(?l) AS ?n) WHERE {{ ?s <{X}p> <{X}o> "
        f"OPTIONAL {{ ?s <{X}label> ?l }} MINUS {{ ?s <{X}gone> ?x }} "
        f"{{ SELECT ?s WHERE {{ ?s <{X}in> <{X}set> }} }} }} GROUP BY ?s")
    assert set(patterns) == {(None, X + "p", X + "o"), (None, X + "label", None),
                             (None, X + "gone", None), (None, X + "in", X + "set")}
    assert touched(("s", "gone", "z")).reaches(patterns)
    assert not touched(("s", "p", "other"), ("s", "in", "other")).reaches(patterns)


def test_a_construct_reads_its_where_clause_not_its_template() -> None:
    patterns = answer_patterns(f"CONSTRUCT {{ ?s <{X}q> ?o }} WHERE {{ ?s <{X}p> ?o }}")
    assert patterns == ((None, X + "p", None),)


def test_a_bound_variable_is_anything() -> None:
    # A request binds it with a VALUES block, which the engine may join after the rest.
    assert answer_patterns("SELECT * { ?actor ?p ?o }") == (ANY,)
