"""What the fuzz suites share: hypothesis settings, generators of hostile input, the properties.

The suites run against a real server (tests/support/live.py) with writes enabled. Hypothesis is
derandomized, so `make test` sends the same requests every run; the number of examples per test
is small by default and set by CITYDIP_FUZZ_EXAMPLES for long runs (`make fuzz`). With
CITYDIP_FUZZ_REPORT=<file>, every request sent is counted by route and status into that file
(JSON), for docs/security.md.

The properties, checked on every request: no 5xx (a query stopped at its time limit, 503 with
the time-limit message, is the documented answer to a query too costly, not a failure, and is
counted apart), the server still answers, its memory stays under the bound, and a refused write
changes nothing (the history and the number of triples are the same before and after).
"""

from __future__ import annotations

import atexit
import json
import os
import string
from collections import Counter
from pathlib import Path

import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from live import WRITE_TOKENS, LiveServer

EXAMPLES = int(os.environ.get("CITYDIP_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True,
                phases=[Phase.explicit, Phase.generate])
"""No shrinking: each example is a request to a live server, and a failing one is shown whole
(and kept under tests/regressions/ once understood)."""
MEMORY_BOUND_MB = 512
"""The fuzz server's CITYDIP_REQUEST_MEMORY_MB; its resident size may not grow more than this."""
CD = "https://w3id.org/citydiplomacy/"
FUZZ_GRAPH = "https://example.org/fuzz/graph"

TALLY: Counter = Counter()
REPORT = Path(os.environ["CITYDIP_FUZZ_REPORT"]) if os.environ.get("CITYDIP_FUZZ_REPORT") else None
_EARLIER: dict[str, int] = json.loads(REPORT.read_text()) if REPORT and REPORT.exists() else {}
"""Counts of earlier runs in the same report file, added to (runs accumulate)."""


def _write_report() -> None:
    """Write the counts so far (also every 500 requests: a long run stopped early keeps them)."""
    if REPORT is None or not TALLY:
        return
    merged = dict(_EARLIER)
    for key, count in TALLY.items():
        merged[key] = merged.get(key, 0) + count
    REPORT.write_text(json.dumps(merged, indent=1, sort_keys=True))


atexit.register(_write_report)


def fuzz_env(history: Path) -> dict[str, str]:
    from live import write_env

    return write_env(history, CITYDIP_REQUEST_MEMORY_MB=str(MEMORY_BOUND_MB),
                     CITYDIP_ACCESS_LOG="false")


# --- the properties ---------------------------------------------------------------------------


def check_answer(response: httpx.Response, route: str) -> None:
    """No 5xx, except a query stopped at its time limit; the answer has a readable message."""
    status = response.status_code
    timeout = status == 503 and "time" in response.text.lower()
    TALLY[f"{route} {'503-timeout' if timeout else status}"] += 1
    if REPORT is not None and sum(TALLY.values()) % 500 == 0:
        _write_report()
    assert status < 500 or timeout, (
        f"{route}: {status} {response.text[:500]!r} for {response.request.method} "
        f"{str(response.request.url)[:300]} {response.request.content[:300]!r}")
    if 400 <= status < 500 and status not in (404, 405) and response.request.method != "HEAD":
        assert response.content.strip(), f"{route}: {status} without a message"
        assert "Traceback" not in response.text


class State:
    """The write-relevant state of the server: the history's length and the triples it holds."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.last: tuple[str, str] | None = None
        """The state after the previous write (only writes change it): one snapshot a write."""

    def snapshot(self) -> tuple[str, str]:
        changes = self.client.get("/changes", params={"limit": 1})
        count = self.client.get("/sparql", params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "text/csv"})
        assert changes.status_code == 200 and count.status_code == 200
        return changes.headers["X-Total-Count"], count.text

    def write(self, route: str, method: str, url: str, **kwargs) -> httpx.Response:
        """Send a write; if it is refused, check that it changed nothing."""
        before = self.last or self.snapshot()
        response = self.client.request(method, url, **kwargs)
        check_answer(response, route)
        self.last = self.snapshot()
        if response.status_code >= 400:
            assert self.last == before, f"{route}: a refused write changed the store"
        return response


def check_alive(server: LiveServer, client: httpx.Client, baseline_rss: int) -> None:
    assert client.get("/health").status_code == 200
    rss = server.process().memory_info().rss
    assert rss - baseline_rss < MEMORY_BOUND_MB * 2**20, (
        f"the server grew by {(rss - baseline_rss) // 2**20} MB")


def auth(name: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE_TOKENS[name]}"}


# --- text -------------------------------------------------------------------------------------

HOSTILE_CHARS = st.sampled_from(list("{}()[]<>\"'\\#\n\r\t\x00 ;.,^@:?$*") + [
    "\u007f", "\u0085", "\u2028", "\ufeff", "\ud7ff", "\U0001f600", "é", "測", "\\u007B",
    "\\U0000007D", "&lol;", "<!ENTITY", "<!DOCTYPE", "SERVICE", "LOAD", "\"\"\"", "'''"])
NASTY_TEXT = st.lists(st.one_of(st.characters(codec="utf-8"), HOSTILE_CHARS), max_size=40).map(
    "".join)


def mutate(text: str, data: st.DataObject) -> str:
    """The text with a few random edits: cut, insert, duplicate, nest deep, escape."""
    for _ in range(data.draw(st.integers(0, 3), label="edits")):
        if not text:
            text = data.draw(NASTY_TEXT)
            continue
        at = data.draw(st.integers(0, len(text)), label="at")
        kind = data.draw(st.sampled_from(["cut", "insert", "dup", "nest", "long", "swap"]))
        if kind == "cut":
            end = data.draw(st.integers(at, min(len(text), at + 20)))
            text = text[:at] + text[end:]
        elif kind == "insert":
            text = text[:at] + data.draw(NASTY_TEXT) + text[at:]
        elif kind == "dup":
            text = text[:at] + text[at:at + 30] * data.draw(st.integers(2, 50)) + text[at:]
        elif kind == "nest":
            depth = data.draw(st.sampled_from([2, 31, 33, 100, 5000]))
            opener = data.draw(st.sampled_from(["{", "(", "[", "<<( ", "{\"a\":", "<a>"]))
            closer = {"{": "}", "(": ")", "[": "]", "<<( ": " )>>", "{\"a\":": "}",
                      "<a>": "</a>"}[opener]
            text = text[:at] + opener * depth + text[at:] + closer * depth
        elif kind == "long":
            text = text[:at] + "x" * data.draw(st.sampled_from([1000, 100_000])) + text[at:]
        else:
            text = text[at:] + text[:at]
    return text


# --- SPARQL, by its grammar -------------------------------------------------------------------

VARIABLES = st.sampled_from(["?s", "?p", "?o", "?x", "$y", "?label", "?g", "?ä"])
IRIS = st.sampled_from([
    f"<{CD}id/city/gdynia>", f"<{CD}id/city/kaohsiung>", "cd:City", "cd:party", "rdfs:label",
    "cd:SisterCityAgreement", "<http://example.org/é>", "<relative>", "<>", "ex:thing",
    f"<{FUZZ_GRAPH}>", "<urn:x:%00>", "<http://[::1]/>", "<file:///etc/passwd>"])
PREDICATES = st.one_of(IRIS, VARIABLES, st.just("a"), st.sampled_from(
    ["rdfs:label|skos:altLabel", "cd:party/rdfs:label", "^cd:party", "cd:party*", "!rdf:type"]))


@st.composite
def literals(draw) -> str:
    value = draw(st.one_of(NASTY_TEXT, st.sampled_from(["", "x" * 5000, "\\u0022", "\\\\"])))
    quote = draw(st.sampled_from(['"', "'", '"""', "'''"]))
    escaped = value.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
    if len(quote) == 1:
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    suffix = draw(st.sampled_from(["", "@en", "@zh-Hant", "^^xsd:integer", "^^<bad iri>",
                                   "@", "^^xsd:dateTime"]))
    number = draw(st.sampled_from(["1", "-0.5e10", "1" * 400, "0x1", "+.5"]))
    return draw(st.sampled_from([f"{quote}{escaped}{quote}{suffix}", number, "true"]))


TERMS = st.one_of(VARIABLES, IRIS, literals())
TRIPLE = st.builds(lambda s, p, o: f"{s} {p} {o}", st.one_of(VARIABLES, IRIS), PREDICATES, TERMS)
FUNCTIONS = ["STR", "LANG", "STRLEN", "UCASE", "isIRI", "BOUND", "REGEX", "CONTAINS", "COALESCE",
             "CONCAT", "SUBSTR", "IRI", "ENCODE_FOR_URI", "xsd:integer", "STRDT", "SHA256"]
EXPRESSIONS = st.recursive(
    TERMS,
    lambda e: st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", e, st.sampled_from(
            ["=", "!=", "<", ">", "&&", "||", "+", "*", "/", "IN"]), e),
        st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(FUNCTIONS), e, e),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS), e),
        st.builds(lambda a: f"!{a}", e),
        st.builds(lambda t: f"EXISTS {{ {t} }}", TRIPLE)),
    max_leaves=6)


def _group(inner):
    return st.one_of(
        st.builds(lambda g: f"{{ {g} }}", inner),
        st.builds(lambda a, b: f"{{ {a} }} UNION {{ {b} }}", inner, inner),
        st.builds(lambda a, b: f"{a} OPTIONAL {{ {b} }}", inner, inner),
        st.builds(lambda a, b: f"{a} MINUS {{ {b} }}", inner, inner),
        st.builds(lambda a, e: f"{a} FILTER({e})", inner, EXPRESSIONS),
        st.builds(lambda a, e, v: f"{a} BIND({e} AS {v})", inner, EXPRESSIONS, VARIABLES),
        st.builds(lambda g, a: f"GRAPH {g} {{ {a} }}", st.one_of(VARIABLES, IRIS), inner),
        st.builds(lambda v, t: f"VALUES {v} {{ {t} UNDEF }}", VARIABLES, TERMS),
        st.builds(lambda a: f"SERVICE <http://example.org/sparql> {{ {a} }}", inner),
        st.builds(lambda a: f"{{ SELECT * WHERE {{ {a} }} LIMIT 3 }}", inner))


GROUPS = st.recursive(TRIPLE, _group, max_leaves=4)
PROLOGUE = st.sampled_from([
    "", "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n",
    "PREFIX ex: <http://example.org/>\nBASE <http://example.org/base/>\n", "PREFIX : <>\n",
    "PREFIX cd: <https://w3id.org/citydiplomacy/ns#> # a comment { ( [\n"])


@st.composite
def queries(draw) -> str:
    group = draw(GROUPS)
    form = draw(st.sampled_from(["SELECT", "SELECT DISTINCT", "ASK", "CONSTRUCT", "DESCRIBE",
                                 "SELECT AGG"]))
    limit = f" LIMIT {draw(st.integers(0, 20))}"
    if form.startswith("SELECT") and form != "SELECT AGG":
        head = f"{form} {draw(st.sampled_from(['*', '?s ?o', '(STR(?s) AS ?k)', '?nothing']))}"
        dataset = draw(st.sampled_from(["", f" FROM <{FUZZ_GRAPH}>", " FROM NAMED <urn:g>"]))
        body = f"{head}{dataset} WHERE {{ {group} }}{limit}"
    elif form == "SELECT AGG":
        body = (f"SELECT ?s (COUNT(*) AS ?n) (GROUP_CONCAT(?o; separator=\"|\") AS ?all) WHERE "
                f"{{ {group} }} GROUP BY ?s HAVING (COUNT(*) > 0){limit}")
    elif form == "ASK":
        body = f"ASK {{ {group} }}"
    elif form == "CONSTRUCT":
        body = f"CONSTRUCT {{ {draw(TRIPLE)} }} WHERE {{ {group} }}{limit}"
    else:
        body = f"DESCRIBE {draw(st.one_of(VARIABLES, IRIS))} WHERE {{ {group} }}{limit}"
    return draw(PROLOGUE) + body


CONSTANT_TRIPLE = st.builds(
    lambda s, p, o: f"{s} {p} {o}",
    st.sampled_from([f"<{CD}id/city/fuzz-a>", f"<{CD}id/city/gdynia>", "<http://example.org/x>",
                     "_:b1", "cd:City"]),
    st.sampled_from(["rdfs:label", "cd:party", "<http://example.org/p>", "a",
                     "rdfs:subClassOf", "sh:path"]),
    st.one_of(literals(), IRIS.filter(lambda i: not i.startswith("?"))))
GRAPHS = st.sampled_from([f"<{FUZZ_GRAPH}>", f"<{CD}graph/ontology>", f"<{CD}graph/edits>",
                          f"<{CD}graph/shortcuts>", "<urn:x>", "<relative>"])


@st.composite
def updates(draw) -> str:
    """Update operations; WHERE clauses are kept selective (one pattern with a constant), as an
    update has no time limit (a cross product over the store would hold the write lock)."""
    where = draw(st.sampled_from([
        f"<{CD}id/city/fuzz-a> ?p ?o", "?s rdfs:label \"fuzz\"@en",
        f"<{CD}id/city/gdynia> rdfs:label ?o"]))
    op = draw(st.sampled_from(["INSERT DATA", "DELETE DATA", "INSERT WHERE", "DELETE WHERE",
                               "DELETE INSERT", "WITH", "CLEAR", "DROP", "CREATE", "ADD", "COPY",
                               "MOVE", "LOAD", "SERVICE"]))
    triple, graph = draw(CONSTANT_TRIPLE), draw(GRAPHS)
    drop = draw(st.sampled_from(["ALL", "NAMED", "DEFAULT", "GRAPH " + graph]))
    inside = draw(st.sampled_from([f"GRAPH {graph} {{ {triple} }}", triple]))
    silent = draw(st.sampled_from(["", " SILENT"]))
    text = {
        "INSERT DATA": f"INSERT DATA {{ {inside} }}",
        "DELETE DATA": f"DELETE DATA {{ {inside} }}",
        "INSERT WHERE": f"INSERT {{ GRAPH {graph} {{ ?s rdfs:label \"x\" }} }} WHERE {{ {where} "
                        f"BIND(<{CD}id/city/fuzz-a> AS ?s) }}",
        "DELETE WHERE": f"DELETE WHERE {{ {where} }}",
        "DELETE INSERT": f"DELETE {{ {where} }} INSERT {{ {inside} }} WHERE {{ {where} }}",
        "WITH": f"WITH {graph} DELETE {{ {where} }} WHERE {{ {where} }}",
        "CLEAR": f"CLEAR{silent} GRAPH {graph}",
        "DROP": f"DROP{silent} {drop}",
        "CREATE": f"CREATE{silent} GRAPH {graph}",
        "ADD": f"ADD{silent} {graph} TO {draw(GRAPHS)}",
        "COPY": f"COPY{silent} {graph} TO {draw(GRAPHS)}",
        "MOVE": f"MOVE{silent} {graph} TO {draw(GRAPHS)}",
        "LOAD": f"LOAD{silent} <http://127.0.0.1:1/data.ttl> INTO GRAPH {graph}",
        "SERVICE": f"INSERT {{ {inside} }} WHERE {{ SERVICE <http://127.0.0.1:1/> {{ {where} }} }}",
    }[op]
    second = draw(st.sampled_from(["", " ; INSERT DATA { <http://example.org/x> rdfs:label 'y' }"]))
    prologue = ("PREFIX cd: <https://w3id.org/citydiplomacy/ns#> PREFIX rdfs: "
                "<http://www.w3.org/2000/01/rdf-schema#> PREFIX sh: <http://www.w3.org/ns/shacl#>\n")
    return prologue + text + second


# --- RDF payloads -----------------------------------------------------------------------------

TURTLE_SEED = f"""@prefix cd: <https://w3id.org/citydiplomacy/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{CD}id/city/fuzz-a> rdfs:label "Fuzz A"@en , \"\"\"long
text\"\"\" ; rdfs:comment [ rdfs:label "nested" ; rdfs:seeAlso ( 1 2 ( 3 ) ) ] .
"""
JSONLD_SEED = json.dumps({
    "@context": {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"},
    "@id": f"{CD}id/city/fuzz-a", "rdfs:label": [{"@value": "Fuzz A", "@language": "en"}],
    "rdfs:comment": {"rdfs:label": "nested", "rdfs:seeAlso": {"@list": [1, 2, {"@list": [3]}]}},
})
RDFXML_SEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="{CD}id/city/fuzz-a">
    <rdfs:label xml:lang="en">Fuzz A</rdfs:label>
    <rdfs:comment rdf:parseType="Resource"><rdfs:label>nested</rdfs:label></rdfs:comment>
  </rdf:Description>
</rdf:RDF>
"""
XML_ATTACKS = [
    '<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]>',
    '<!DOCTYPE rdf:RDF [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]>',
]
JSONLD_ATTACKS = [
    '{"@context": "http://127.0.0.1:1/context.jsonld", "@id": "http://example.org/x"}',
    '{"@context": {"@import": "file:///etc/passwd"}, "@id": "http://example.org/x"}',
    '{"@context": ["https://schema.org/"], "name": "x"}',
]


@st.composite
def rdf_payloads(draw) -> tuple[str, str]:
    """(media type, body): a seed document mutated, or with an attack spliced in."""
    kind = draw(st.sampled_from(["turtle", "jsonld", "rdfxml", "ntriples", "trig"]))
    if kind == "turtle":
        media, text = "text/turtle", TURTLE_SEED
    elif kind == "trig":
        media, text = "application/trig", f"<{FUZZ_GRAPH}> {{ {TURTLE_SEED.split('.', 2)[2]} }}"
    elif kind == "ntriples":
        media = "application/n-triples"
        text = f"<{CD}id/city/fuzz-a> <http://www.w3.org/2000/01/rdf-schema#label> \"A\" .\n"
    elif kind == "jsonld":
        media = "application/ld+json"
        text = draw(st.sampled_from([JSONLD_SEED, *JSONLD_ATTACKS]))
    else:
        media, text = "application/rdf+xml", RDFXML_SEED
        if draw(st.booleans()):
            head, _, rest = text.partition("\n")
            text = f"{head}\n{draw(st.sampled_from(XML_ATTACKS))}\n{rest}"
    text = mutate(text, draw(st.data()))
    media = draw(st.sampled_from([media, media + "; charset=utf-8", "text/turtle",
                                  "application/octet-stream", "", "application/rdf+xml"]))
    return media, text


# --- paths, query strings, headers ------------------------------------------------------------

SEGMENTS = st.one_of(
    st.sampled_from(["city", "gdynia", "kaohsiung", "%00", "..", "%2e%2e", "%2F", "a%20b", "é",
                     "%ff", "x" * 3000, "-1", "0", "99999999999999999999", "null", "<script>",
                     "%0d%0aSet-Cookie:x=1", "🙂", "1e309", "NaN"]),
    st.text(string.ascii_letters + string.digits + "-._~%:@!$&'()*+,;=", max_size=12))
QUERY_KEYS = st.sampled_from(["query", "format", "limit", "offset", "graph", "default",
                              "measure", "radius", "from", "to", "q", "kind", "name", "lang",
                              "default-graph-uri", "named-graph-uri", "update", "page", "x"])
QUERY_VALUES = st.one_of(SEGMENTS, st.sampled_from(
    ["json", "ttl", "-5", "1000000000", "ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
     "{" * 5000, "http://example.org/", "not an iri", "degree", "", "true"]))
ACCEPTS = st.sampled_from([
    None, "*/*", "text/html", "application/json", "text/turtle", "application/rdf+xml",
    "application/sparql-results+xml;q=0.9, */*;q=0.1", "garbage", ";;;", "text/*;q=abc",
    "application/x-unknown", "text/html;level=1;q=0.5, application/ld+json", "x" * 5000])
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "text/turtle", "application/sparql-query",
    "application/sparql-update", "application/x-www-form-urlencoded", "multipart/form-data",
    "application/json; charset=latin-1", "text/plain; charset=utf-16", "garbage/", ";"])
AUTHORIZATIONS = st.sampled_from([
    None, f"Bearer {WRITE_TOKENS['alice']}", "Bearer wrong", "Bearer", "Basic YWxpY2U6eA==",
    "Bearer " + "x" * 900, "bearer  " + WRITE_TOKENS["bob"], "Bearer \u00e9".encode(),
    b"Bearer \xff\xfe"])


@st.composite
def headers(draw) -> dict[str, str | bytes]:
    out = {}
    for name, strategy in (("Accept", ACCEPTS), ("Content-Type", CONTENT_TYPES),
                           ("Authorization", AUTHORIZATIONS)):
        value = draw(strategy)
        if value is not None:
            out[name] = value
    return out


def fill_path(template: str, segments: list[str]) -> str:
    """A route's path template with its {parameters} replaced by fuzzed segments."""
    parts = template.split("/")
    it = iter(segments)
    return "/".join(next(it, "x") if p.startswith("{") else p for p in parts)
