"""The bounds of graph.sparql.limits: nesting counted as a parser would see it, DTDs refused,
memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.core.settings import Settings
from graph.sparql.guard import expand_escapes
from graph.sparql.limits import (
    Bounds,
    LimitExceeded,
    MemoryBudget,
    check_json,
    check_nesting,
    check_xml,
    json_depth,
    nesting_depth,
)
from graph.write.changes import ChangeError
from graph.write.payload import parse_rdf

ROOT = Path(__file__).resolve().parents[2]
import pyoxigraph as ox  # noqa: E402


def test_nesting_skips_strings_iris_and_comments() -> None:
    assert nesting_depth("SELECT * WHERE { ?s ?p '{{{' . ?s ?p \"(((\" # [[[[\n }") == 1
    assert nesting_depth('SELECT * WHERE { ?s ?p """{"{{""" }') == 1
    assert nesting_depth("SELECT * WHERE { <http://x/(a)> ?p ?o }") == 2  # a passing bracket
    assert nesting_depth("SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && (?o > 1)) }") == 3


def test_brackets_hidden_in_what_might_be_an_iri_are_counted() -> None:
    # `<` is an IRI or the less-than operator: the count takes the deeper reading, and closing
    # brackets inside such a span never lower it.
    assert nesting_depth("FILTER(?a <((((((1> 2)") >= 7
    assert nesting_depth("((( <)))))> (((") == 6


def test_escapes_are_expanded_before_counting() -> None:
    hidden = "SELECT * WHERE " + "\\u007B" * 50 + "\\u007D" * 50
    assert nesting_depth(hidden) == 0
    assert nesting_depth(expand_escapes(hidden)) == 50


def test_refusal_names_the_depth_the_limit_and_the_setting() -> None:
    with pytest.raises(LimitExceeded) as refused:
        check_nesting("SELECT * WHERE " + "{" * 20000 + "}" * 20000, 32)
    assert str(refused.value) == ("the query nests 20000 levels of { }, ( ) or [ ]; the limit is "
                                  "32 (CITYDIP_MAX_NESTING)")
    assert refused.value.status == 400
    check_nesting("SELECT * WHERE " + "{" * 32 + "}" * 32, 32)


@settings(max_examples=200, derandomize=True, database=None)
@given(prefix=st.text(max_size=30), depth=st.integers(0, 80),
       bracket=st.sampled_from(["{}", "()", "[]"]))
def test_nesting_is_never_undercounted(prefix: str, depth: int, bracket: str) -> None:
    """Whatever text comes before (an open string is the parser's syntax error, not nesting)."""
    text = prefix + "\n" + bracket[0] * depth + bracket[1] * depth
    if any(q in prefix for q in "\"'"):
        return
    assert nesting_depth(text) >= depth


def test_every_bundled_query_is_within_the_limit() -> None:
    limit = Settings().max_nesting
    files = list((ROOT / "queries").rglob("*.rq"))
    assert files
    for path in files:
        assert nesting_depth(path.read_text(encoding="utf-8")) <= limit // 2, path


def test_json_depth() -> None:
    assert json_depth('{"a": "[[[{{{", "b": [[1]]}') == 3
    with pytest.raises(LimitExceeded, match="nests 5000 levels"):
        check_json("[" * 5000 + "]" * 5000, 32)


def test_xml_doctype_and_entities_are_refused_in_any_encoding() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(LimitExceeded, match="DOCTYPE"):
        check_xml(bomb.encode(), 32)
    utf16 = bomb.replace('"1.0"', '"1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(LimitExceeded, match="DOCTYPE"):
        check_xml(utf16, 32)
    with pytest.raises(LimitExceeded, match="undefined entity at line 1"):
        check_xml(b"<x>&a;</x>", 32)
    with pytest.raises(LimitExceeded, match="more than 32 levels"):
        check_xml(b"<a>" * 40 + b"</a>" * 40, 32)
    check_xml(b"<a><b>text</b></a>", 32)


def test_parse_rdf_caps_triples_and_reports_the_setting() -> None:
    lines = "".join(f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" .\n"
                    for i in range(10_001))
    graph = ox.NamedNode("http://example.org/g")
    with pytest.raises(ChangeError) as refused:
        parse_rdf(lines, ox.RdfFormat.N_TRIPLES, graph, bounds=Bounds(max_triples=10_000))
    assert refused.value.status == 413
    assert "CITYDIP_MAX_WRITE_TRIPLES" in str(refused.value)
    assert len(parse_rdf(lines, ox.RdfFormat.N_TRIPLES, graph,
                         bounds=Bounds(max_triples=10_001))) == 10_001


def test_parse_rdf_refuses_the_billion_laughs_before_parsing() -> None:
    bomb = (ROOT / "tests" / "regressions" / "billion-laughs.rdf").read_bytes()
    with pytest.raises(ChangeError, match="DOCTYPE") as refused:
        parse_rdf(bomb, ox.RdfFormat.RDF_XML, ox.NamedNode("http://example.org/g"))
    assert refused.value.status == 400


def test_memory_budget_stops_past_its_megabytes() -> None:
    budget = MemoryBudget(8, "the test payload")
    assert budget.start is not None, "the memory bound reads /proc: it needs Linux"
    ballast = bytearray(64 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: resident now
    with pytest.raises(LimitExceeded, match="CITYDIP_REQUEST_MEMORY_MB") as refused:
        budget.check()
    assert refused.value.status == 413
    del ballast
    MemoryBudget(0).check()  # 0 turns the check off
