"""Result serialization: every format from pyoxigraph's writers, cut exactly at the row limit."""

import json

import pyoxigraph as ox
import pytest

from graph.sparql.formats import (
    BY_NAME,
    DATA_SUFFIXES,
    NotAcceptable,
    negotiate,
    rdf_format,
    rdf_format_of_media_type,
    rdf_format_of_path,
    serialize_result,
)

QUERY = "SELECT ?s ?label WHERE { ?s <urn:label> ?label } ORDER BY ?s"


@pytest.fixture(scope="module")
def rows_store() -> ox.Store:
    store = ox.Store()
    for i in range(10):
        store.add(ox.Quad(ox.NamedNode(f"urn:s{i:02}"), ox.NamedNode("urn:label"),
                          ox.Literal(f"line\nbreak {i}", language="zh-Hant")))
    return store


@pytest.mark.parametrize(("limit", "rows", "truncated"), [(10, 10, False), (11, 10, False),
                                                          (9, 9, True), (1, 1, True)])
def test_a_select_is_cut_exactly_at_the_limit(rows_store, limit, rows, truncated):
    out = serialize_result(rows_store.query(QUERY), BY_NAME["json"], limit,
                           rerun=lambda: rows_store.query(QUERY))
    bindings = json.loads(out.body)["results"]["bindings"]
    assert (len(bindings), out.truncated) == (rows, truncated)
    assert bindings[0]["label"] == {"type": "literal", "value": "line\nbreak 0",
                                    "xml:lang": "zh-hant"}


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_every_results_format_round_trips_through_pyoxigraph(rows_store, name):
    fmt = BY_NAME[name]
    out = serialize_result(rows_store.query(QUERY), fmt, 100)
    assert out.media_type.startswith(fmt.media_type)
    if fmt.results is not ox.QueryResultsFormat.CSV:  # CSV is lossy and has no parser
        parsed = list(ox.parse_query_results(out.body, format=fmt.results))
        assert len(parsed) == 10 and parsed[3]["label"].value == "line\nbreak 3"


@pytest.fixture(scope="module")
def many_rows_store() -> ox.Store:
    """3,000 rows of uneven length (escapes, long values), many chunks of the writer's output."""
    store = ox.Store()
    for i in range(3000):
        text = f"row {i}\ttab \"quote\" line\nbreak " + "長" * (i % 97)
        store.add(ox.Quad(ox.NamedNode(f"urn:s{i:05}"), ox.NamedNode("urn:label"),
                          ox.Literal(text, language="zh-Hant")))
    return store


@pytest.mark.parametrize("limit", [1, 100, 1234, 2999, 3000, 3001])
@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_a_long_select_keeps_exactly_its_first_rows(many_rows_store, limit, name):
    fmt = BY_NAME[name]
    full = list(many_rows_store.query(QUERY))
    out = serialize_result(many_rows_store.query(QUERY), fmt, limit)
    kept = list(ox.parse_query_results(out.body, format=fmt.results))
    assert out.truncated == (limit < 3000)
    assert [(s["s"], s["label"]) for s in kept] == [(s["s"], s["label"]) for s in full[:limit]]


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("accept", "requested", "name"), [
    (None, None, "html"), ("", None, "html"), ("*/*", None, "html"), (BROWSER, None, "html"),
    ("text/turtle", None, "ttl"), ("text/plain", None, "nt"), ("text/n3", None, "ttl"),
    ("application/ld+json", None, "jsonld"), ("application/n-triples;q=0.5, */*;q=0.1", None, "nt"),
    ("text/turtle", "html", "html"), ("text/html", "ttl", "ttl"), (None, "xml", "rdfxml"),
    (None, "json", "jsonld"), (None, "text/html", "html"),
])
def test_entity_pages_negotiate_html_beside_rdf(accept, requested, name):
    assert negotiate(accept, "DESCRIBE", requested, page=True).name == name


@pytest.mark.parametrize("accept", ["application/json", "application/xml", "image/png"])
def test_entity_pages_do_not_read_generic_json_or_xml_as_rdf(accept):
    with pytest.raises(NotAcceptable, match="offered: text/html, text/turtle"):
        negotiate(accept, "DESCRIBE", page=True)
    assert negotiate("application/json", "DESCRIBE").name == "jsonld"  # a CONSTRUCT/DESCRIBE


def test_one_table_names_media_types_and_extensions():
    assert rdf_format("text/turtle; charset=utf-8") is ox.RdfFormat.TURTLE
    assert rdf_format("application/json") is ox.RdfFormat.JSON_LD
    assert rdf_format("json-ld") is rdf_format("jsonld") is ox.RdfFormat.JSON_LD
    assert rdf_format("text/csv") is None and rdf_format("csv") is None
    assert rdf_format_of_path("data/x.TTL") is ox.RdfFormat.TURTLE
    assert rdf_format_of_path("x.n3") is None
    assert DATA_SUFFIXES == {".ttl", ".nt", ".trig", ".nq", ".jsonld", ".rdf"}


def test_answers_of_other_engines_are_read_as_pyoxigraph_would():
    for media in ("text/ntriples", "application/x-trig", "text/turtle; charset=utf-8",
                  "application/json", "text/plain", "text/html"):
        expected = ox.RdfFormat.from_media_type(media.split(";")[0])
        assert rdf_format_of_media_type(media) == expected


@pytest.mark.parametrize("limit", [1, 100, 1234, 2999, 3000, 3001, 10_000])
@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_a_select_written_in_one_pass_is_the_one_cut_exactly(many_rows_store, limit, name):
    """Written directly (queries known to be cheap), a SELECT is written straight in its format
    when its rows fit, and cut exactly (TSV first) when they may not: the same answer either
    way."""
    fmt = BY_NAME[name]
    runs = []

    def rerun():
        runs.append(1)
        return many_rows_store.query(QUERY)

    exact = serialize_result(many_rows_store.query(QUERY), fmt, limit)
    out = serialize_result(many_rows_store.query(QUERY), fmt, limit, rerun=rerun, direct=True)
    assert (out.body, out.media_type, out.truncated) == (exact.body, exact.media_type,
                                                         exact.truncated)
    if limit >= 3000 and name != "csv":  # CSV counts a value's line break as one more row
        assert not runs, "rows that fit were written twice"


@pytest.mark.parametrize("name", ["json", "xml", "csv"])
def test_the_row_bound_holds_for_empty_rows_and_triple_terms(name):
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:b"), ox.NamedNode("urn:p"),
                      ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.BlankNode("b"))))
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"),
                      ox.Literal('{"type":"uri"}<result>\n', language="en")))
    for query, rows in (("SELECT ?x WHERE { ?s ?p ?o }", 2), ("SELECT * WHERE {}", 1),
                        ("SELECT ?s ?o WHERE { ?s ?p ?o }", 2)):
        for limit in range(rows + 2):
            out = serialize_result(store.query(query), BY_NAME[name], limit,
                                   rerun=lambda q=query: store.query(q), direct=True)
            assert out.truncated == (limit < rows), (query, limit)
