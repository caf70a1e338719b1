"""The remote backend: our server in front of a real `oxigraph serve`, and its answer handling.

The protocol tests (test_protocol.py) run against this backend too; here is what is particular to
it: loading the data on the first start only, named-query parameters reaching it, and reading
the remote store's answers (cut off by its timeout, larger than we read, or missing).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

import httpx
import psutil
import pyoxigraph as ox
import pytest
from live import LiveServer, citydip_server, free_port, oxigraph_server, remote_env

from graph.backend import RemoteBackend
from graph.execution import QueryJob, QueryTimeout
from graph.settings import Settings
from graph.store import Store

ID = "https://w3id.org/citydiplomacy/id/"
GDYNIA = ox.NamedNode(ID + "city/gdynia")
MARKER = "urn:citydiplomacy:test:marker"
SOLUTIONS = {"head": {"vars": ["n"]}, "results": {"bindings": [
    {"n": {"type": "literal", "value": str(i),
           "datatype": "http://www.w3.org/2001/XMLSchema#integer"}} for i in range(10)]}}
JSON_TYPE = {"content-type": "application/sparql-results+json"}
NT_TYPE = {"content-type": "application/n-triples"}


def ask_oxigraph(oxigraph: LiveServer, query: str) -> list[dict[str, str]]:
    response = httpx.post(oxigraph.url + "/query", data={"query": query}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def test_first_start_loads_the_data(remote_server: LiveServer, oxigraph: LiveServer,
                                    store: Store) -> None:
    counts = ask_oxigraph(oxigraph, "SELECT ?g (COUNT(*) AS ?n) "
                                    "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert {r["g"]: int(r["n"]) for r in counts} == {g: store.count(g) for g in store.graphs()}
    health = httpx.get(remote_server.url + "/health", timeout=30).json()
    assert {k: health[k] for k in ("status", "backend", "triples")} == {
        "status": "ok", "backend": "remote", "triples": len(store.raw)}
    assert health["data_version"] == health["current_data_version"] == 0


def test_a_second_server_does_not_load_again(remote_server: LiveServer,
                                             oxigraph: LiveServer) -> None:
    """Replicas share the store: a server finding it filled leaves it alone (no DROP ALL)."""
    update = f"INSERT DATA {{ GRAPH <{MARKER}> {{ <{MARKER}> <{MARKER}> 1 }} }}"
    assert httpx.post(oxigraph.url + "/update", data={"update": update}).status_code == 204
    try:
        with citydip_server(remote_env(oxigraph)) as replica:
            answer = httpx.get(replica.url + "/sparql", timeout=30, params={
                "query": f"ASK {{ GRAPH <{MARKER}> {{ ?s ?p ?o }} }}"})
            assert answer.json()["boolean"] is True
    finally:
        httpx.post(oxigraph.url + "/update", data={"update": f"DROP SILENT GRAPH <{MARKER}>"})


def test_health_says_unavailable_once_the_remote_store_is_gone() -> None:
    with oxigraph_server() as store, citydip_server(remote_env(store)) as server:
        first = httpx.get(server.url + "/health", timeout=30)
        assert first.status_code == 200 and first.json()["status"] == "ok"
        os.kill(store.pid, signal.SIGKILL)
        psutil.Process(store.pid).wait(timeout=10)
        gone = httpx.get(server.url + "/health", timeout=30)
        assert gone.status_code == 503 and gone.json()["status"] == "unavailable"


def test_named_query_parameters_reach_the_remote_store(remote_server: LiveServer,
                                                       live_server: LiveServer) -> None:
    params = {"actor": "city/gdynia", "format": "json"}
    remote = httpx.get(remote_server.url + "/queries/partners-of", params=params, timeout=30)
    local = httpx.get(live_server.url + "/queries/partners-of", params=params, timeout=30)
    assert remote.status_code == local.status_code == 200

    def rows(response: httpx.Response) -> list:
        return sorted(json.dumps(b, sort_keys=True)
                      for b in response.json()["results"]["bindings"])

    assert rows(remote) == rows(local) and rows(remote)


# --- reading answers ----------------------------------------------------------------------------


def backend(**settings) -> RemoteBackend:
    """A remote backend without a store behind it: for the answer handling alone."""
    remote = RemoteBackend.__new__(RemoteBackend)
    remote.settings = Settings(store_backend="remote",
                               remote_query_url=f"http://127.0.0.1:{free_port()}/query",
                               **settings)
    remote._client = None
    return remote


def test_an_answer_cut_off_by_the_remote_timeout_is_a_timeout() -> None:
    cut = b'{"head":{"vars":["n"]},"results":{"bindings":[The SPARQL operation has been cancelled'
    with pytest.raises(QueryTimeout):
        backend()._reserialize(QueryJob("SELECT"), JSON_TYPE, cut, complete=True)
    cut = json.dumps(SOLUTIONS).encode()[:-30]
    with pytest.raises(QueryTimeout):
        backend()._reserialize(QueryJob("SELECT", max_rows=100), JSON_TYPE, cut, complete=True)
    with pytest.raises(QueryTimeout):
        backend()._reserialize(QueryJob("ASK"), JSON_TYPE, b'{"head":{},"boo', complete=True)
    triples = b'<urn:s> <urn:p> "1" .\n<urn:s> <urn:p> "2" .\n<urn:s> <urn:p'
    whole = backend()._reserialize(QueryJob("CONSTRUCT"), NT_TYPE, triples[:-14], complete=True)
    assert whole.status == 200 and len(list(ox.parse(whole.body, format=ox.RdfFormat.TURTLE))) == 2
    with pytest.raises(QueryTimeout):
        backend()._reserialize(QueryJob("CONSTRUCT"), NT_TYPE, triples, complete=True)


def test_a_whole_answer_is_reserialized() -> None:
    body = json.dumps(SOLUTIONS).encode()
    outcome = backend()._reserialize(QueryJob("SELECT", accept="text/csv"), JSON_TYPE, body,
                                     complete=True)
    assert outcome.status == 200 and outcome.media_type.startswith("text/csv")
    assert outcome.body.decode().split() == ["n", *map(str, range(10))]
    assert not outcome.truncated
    outcome = backend()._reserialize(QueryJob("SELECT", max_rows=3), JSON_TYPE, body,
                                     complete=True)
    assert outcome.truncated and len(json.loads(outcome.body)["results"]["bindings"]) == 3


def test_an_answer_we_stopped_reading_gives_the_rows_we_have() -> None:
    prefix = json.dumps(SOLUTIONS).encode()[:-60]  # what we read before closing
    outcome = backend()._reserialize(QueryJob("SELECT", max_rows=5), JSON_TYPE, prefix,
                                     complete=False)
    assert outcome.status == 200 and outcome.truncated
    assert len(json.loads(outcome.body)["results"]["bindings"]) == 5
    triples = b"".join(b'<urn:s> <urn:p> "%d" .\n' % i for i in range(10))[:-5]
    outcome = backend()._reserialize(QueryJob("CONSTRUCT", max_rows=5), NT_TYPE, triples,
                                     complete=False)
    assert outcome.status == 200 and outcome.truncated
    assert len(list(ox.parse(outcome.body, format=ox.RdfFormat.TURTLE))) == 5
    outcome = backend()._reserialize(QueryJob("SELECT", max_rows=50), JSON_TYPE, prefix,
                                     complete=False)
    assert outcome.status == 502 and "larger than" in outcome.message


def test_an_unexpected_answer_is_502() -> None:
    outcome = backend()._reserialize(QueryJob("SELECT"), {"content-type": "text/html"},
                                     b"<html>", complete=True)
    assert outcome.status == 502 and "text/html" in outcome.message


def test_an_unreachable_store_is_502() -> None:
    async def run() -> int:
        remote = backend(query_timeout=5)
        await remote.start()
        try:
            return (await remote.execute(QueryJob("ASK {}"))).status
        finally:
            await remote._client.aclose()

    assert asyncio.run(run()) == 502
