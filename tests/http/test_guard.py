"""SERVICE is refused (server-side request forgery), decided on the parsed query."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from live import LiveServer

from graph.sparql.guard import UnsafeQuery, check_query, expand_escapes, is_update

TRIPLE = "{ ?s ?p ?o }"
REFUSED = {
    "plain": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "lower case": "select * where { service <http://example.org/sparql> { ?s ?p ?o } }",
    "mixed case": "SELECT * WHERE { SeRvIcE <http://example.org/sparql> { ?s ?p ?o } }",
    "u escape": r"SELECT * WHERE { \u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "U escape": r"SELECT * WHERE { \U00000053\U00000045RVICE <http://example.org/> { ?s ?p ?o } }",
    "escaped in the middle": r"SELECT * WHERE { SER\u0056ICE <http://example.org/> { ?s ?p ?o } }",
    "comments around": "SELECT * WHERE { # look: no SERVICE here\n  SERVICE # nor here\n"
                       "  <http://example.org/sparql> # really\n { ?s ?p ?o } }",
    "comment splitting nothing": "SELECT * WHERE {#\nSERVICE#\n<http://example.org/>#\n{?s ?p ?o}}",
    "variable": "SELECT * WHERE { VALUES ?e { <http://example.org/> } SERVICE ?e { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }",
    "silent lower": "select * { service silent <http://example.org/sparql> { ?s ?p ?o } }",
    "in optional": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <http://example.org/> "
                   "{ ?s ?p ?o } } }",
    "in subquery": "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://example.org/> "
                   "{ ?s ?p ?o } } LIMIT 1 } }",
    "in union": "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <http://example.org/> "
                "{ ?s ?p ?o } } }",
    "in minus": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <http://example.org/> { ?s ?p ?o } } }",
    "in filter exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://example.org/> "
                        "{ ?s ?p ?o } } }",
    "in graph": "SELECT * WHERE { GRAPH ?g { SERVICE <http://example.org/> { ?s ?p ?o } } }",
    "prefixed name": "PREFIX ex: <http://example.org/> SELECT * { SERVICE ex:sparql { ?s ?p ?o } }",
    "ask": "ASK { SERVICE <http://example.org/> { ?s ?p ?o } }",
    "construct": "CONSTRUCT WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
    "describe": "DESCRIBE ?s WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
    "loopback": "SELECT * { SERVICE <http://127.0.0.1:7878/query> { ?s ?p ?o } }",
    "relative IRI": "SELECT * { SERVICE <query> { ?s ?p ?o } }",
    "unparseable with service": "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o }",
}
ALLOWED = {
    "no service": "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
    "in a string": 'SELECT * WHERE { ?s ?p "SERVICE <http://example.org/> { ?s ?p ?o }" } LIMIT 1',
    "in a long string": 'ASK { ?s ?p """\nservice <http://example.org/>\n""" }',
    "in a comment": "# SERVICE <http://example.org/sparql> { ?s ?p ?o }\nASK { ?s ?p ?o }",
    "in a trailing comment": "ASK { ?s ?p ?o } # then SERVICE <http://example.org/>",
    "in an IRI": "ASK { ?s <http://example.org/service> ?o }",
    "as a prefix": "PREFIX service: <http://example.org/> ASK { ?s service:p ?o }",
    "as a variable": "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
    "escaped in a string": r'ASK { ?s ?p "\u0053ERVICE" }',
}


@pytest.mark.parametrize("query", REFUSED.values(), ids=REFUSED.keys())
def test_service_is_refused(query: str) -> None:
    with pytest.raises(UnsafeQuery):
        check_query(query)


@pytest.mark.parametrize("query", ALLOWED.values(), ids=ALLOWED.keys())
def test_service_as_text_is_allowed(query: str) -> None:
    check_query(query)


def test_allowlist() -> None:
    query = "SELECT * WHERE { SERVICE <http://Data.Example.org/sparql> { ?s ?p ?o } }"
    check_query(query, ("data.example.org",))
    check_query(query.replace("SERVICE", "SERVICE SILENT"), ("DATA.example.org", "other"))
    with pytest.raises(UnsafeQuery, match="allowed: other.example.org"):
        check_query(query, ("other.example.org",))
    both = ("SELECT * { SERVICE <http://data.example.org/> { ?s ?p ?o } "
            "SERVICE <http://evil.example.net/> { ?s ?p ?o } }")
    with pytest.raises(UnsafeQuery, match="evil.example.net"):
        check_query(both, ("data.example.org",))
    with pytest.raises(UnsafeQuery):  # a variable can name any host
        check_query("SELECT * { SERVICE ?e { ?s ?p ?o } }", ("data.example.org",))


def test_escapes_are_expanded() -> None:
    assert expand_escapes(r"\u0053ERVICE \U0001F600") == "SERVICE \U0001F600"


def test_is_update() -> None:
    assert is_update("INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> <urn:o> } }")
    assert is_update("CLEAR ALL")
    assert is_update("DELETE WHERE { ?s ?p ?o }")
    assert not is_update("SELECT * WHERE { ?s ?p ?o }")
    assert not is_update("ASK {")


# --- over HTTP, with a listener that must never be contacted ---------------------------------


@contextmanager
def tcp_listener() -> Iterator[tuple[int, list]]:
    """A TCP server on a free loopback port that records every connection made to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    connections: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, address = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(address)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], connections
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def test_no_request_reaches_another_host(server: LiveServer) -> None:
    with tcp_listener() as (port, connections), httpx.Client(base_url=server.url,
                                                             timeout=30) as http:
        target = f"http://127.0.0.1:{port}/"
        queries = [
            f"SELECT * WHERE {{ SERVICE <{target}> {TRIPLE} }}",
            f"SELECT * WHERE {{ SERVICE SILENT <{target}sparql> {TRIPLE} }}",
            rf"SELECT * WHERE {{ \u0053ERVICE <{target}> {TRIPLE} }}",
            f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {TRIPLE} }}",
            f"ASK {{ OPTIONAL {{ sErViCe # hidden\n <{target}> {TRIPLE} }} }}",
        ]
        for query in queries:
            for response in (
                http.get("/sparql", params={"query": query}),
                http.post("/sparql", data={"query": query}),
                http.post("/sparql", content=query.encode(),
                          headers={"Content-Type": "application/sparql-query"}),
            ):
                assert response.status_code == 400, (query, response.text)
                assert "SERVICE" in response.text and "Traceback" not in response.text
        # Look-alike letters (dotless i, long s) are no keyword for the engine either.
        for lookalike in ("SERV\u0131CE", "\u017fERVICE"):
            query = f"SELECT * WHERE {{ {lookalike} <{target}> {TRIPLE} }}"
            response = http.post("/sparql", data={"query": query})
            assert response.status_code == 400 and "Traceback" not in response.text
        time.sleep(0.5)
        assert connections == [], f"the server connected to the listener: {connections}"
        # The listener does see connections: this one is ours.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        deadline = time.monotonic() + 5
        while not connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(connections) == 1


def test_service_as_text_is_answered(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for name in ("in a string", "in a comment", "in an IRI", "as a prefix", "as a variable"):
            response = http.post("/sparql", data={"query": ALLOWED[name]})
            assert response.status_code == 200, (name, response.text)
