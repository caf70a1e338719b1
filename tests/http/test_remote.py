"""The remote backend: our server in front of a real `oxigraph serve` or Virtuoso, and its answers.

The protocol tests (test_protocol.py) run against this backend too; here is what is particular to
it: loading the data on the first start only, named-query parameters reaching it, replicas
sharing one store, what is never forwarded to the store, and reading the remote store's answers
(cut off by its timeout, larger than we read, or missing).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal

import httpx
import psutil
import pyoxigraph as ox
import pytest
from live import (
    VIRTUOSO_SETUP_AUTHENTICATED,
    VIRTUOSO_WRITER,
    LiveServer,
    SparqlStore,
    bearer,
    citydip_server,
    free_port,
    kill_hard,
    oxigraph_server,
    remote_env,
    restore,
    virtuoso_server,
    write_env,
)

from graph.backend import RemoteBackend
from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.execution import QueryJob, QueryTimeout
from graph.store.remote import (
    SYSTEM_GRAPH,
    XSD_BOOLEAN,
    RemoteError,
    RemoteStore,
    Stopped,
    check_answer,
    normalize_answer,
)

ID = "https://w3id.org/citydiplomacy/id/"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
GDYNIA = ox.NamedNode(ID + "city/gdynia")
MARKER = "urn:citydiplomacy:test:marker"
SOLUTIONS = {"head": {"vars": ["n"]}, "results": {"bindings": [
    {"n": {"type": "literal", "value": str(i),
           "datatype": "http://www.w3.org/2001/XMLSchema#integer"}} for i in range(10)]}}
JSON_TYPE = {"content-type": "application/sparql-results+json"}
NT_TYPE = {"content-type": "application/n-triples"}


def ask_store(target: SparqlStore, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT sent to the store itself, not through our server."""
    response = httpx.post(target.query_url, data={"query": query}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def update_store(target: SparqlStore, update: str) -> None:
    response = httpx.post(target.update_url, data={"update": update}, timeout=30)
    assert response.status_code in (200, 204), response.text


def test_first_start_loads_the_data(remote_server: LiveServer, store: Store) -> None:
    counts = ask_store(remote_server.store, "SELECT ?g (COUNT(*) AS ?n) "
                                            "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert {r["g"]: int(r["n"]) for r in counts} == {g: store.count(g) for g in store.graphs()}
    health = httpx.get(remote_server.url + "/health", timeout=30).json()
    assert {k: health[k] for k in ("status", "backend", "triples")} == {
        "status": "ok", "backend": "remote", "triples": len(store.raw)}
    assert health["data_version"] == health["current_data_version"] == 0


def test_the_store_gives_the_data_back_as_loaded(remote_server: LiveServer,
                                                  store: Store) -> None:
    """Every quad read back from the store is the quad loaded, literal for literal: datatypes,
    language tags, booleans (Virtuoso stores `true` as 1) and blank-node-free terms alike."""
    def key(quad: ox.Quad):
        terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
        return tuple("_:" if isinstance(t, ox.BlankNode) else str(t) for t in terms)

    remote = RemoteStore(remote_server.store.query_url, None)
    back = sorted(map(key, remote.quads()))
    loaded = sorted(map(key, store.quads_for_pattern()))
    assert back == loaded


def test_a_second_server_does_not_load_again(remote_server: LiveServer) -> None:
    """Replicas share the store: a server finding it filled leaves it alone (no DROP ALL)."""
    target = remote_server.store
    update_store(target, f"INSERT DATA {{ GRAPH <{MARKER}> {{ <{MARKER}> <{MARKER}> 1 }} }}")
    try:
        with citydip_server(remote_env(target)) as replica:
            answer = httpx.get(replica.url + "/sparql", timeout=30, params={
                "query": f"ASK {{ GRAPH <{MARKER}> {{ ?s ?p ?o }} }}"})
            assert answer.json()["boolean"] is True
    finally:
        update_store(target, f"DROP SILENT GRAPH <{MARKER}>")


@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_health_says_unavailable_once_the_remote_store_is_gone(engine: str) -> None:
    start = oxigraph_server if engine == "oxigraph" else virtuoso_server
    with start() as store, citydip_server(remote_env(store)) as server:
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


def same_links(server: LiveServer, reference: LiveServer, path: str) -> None:
    """The page of `path` from `server` has the links, in order, of `reference`'s."""
    pages = [httpx.get(s.url + path, headers={"Accept": "text/html"}, timeout=30)
             for s in (server, reference)]
    assert [page.status_code for page in pages] == [200, 200]
    remote, local = (re.findall(r'href="(/[^"]*)"', page.text) for page in pages)
    assert remote == local and sum(link.startswith("/id/") for link in local) > 10


@pytest.mark.parametrize("path", ["/id/city/kaohsiung", "/id/city/kaohsiung?in=2&out=2",
                                  "/id/city/gdynia", "/id/country/japan",
                                  "/id/agreement/kaohsiung-gdynia-sister-city-2025"])
def test_an_entity_page_over_a_remote_store_shows_what_the_embedded_one_shows(
        remote_server: LiveServer, live_server: LiveServer, path: str) -> None:
    """A page's lists are read as one query a step (subqueries joined by UNION), which the
    remote engines answer as the embedded one does: the same links, in the same order
    (Kaohsiung's lists are paged, and its passages those of the page). Over Virtuoso every
    entity page answered 503 (its compiler failed on `COALESCE(MIN(…))`), then Kaohsiung's
    lacked its twinning relations (a `FILTER` on an outer variable opening an `OPTIONAL`):
    the partnership queries now say both in ways that both engines read alike."""
    same_links(remote_server, live_server, path)


# --- replicas over one Virtuoso ------------------------------------------------------------------

CD = "https://w3id.org/citydiplomacy/ns#"
REPORT = ID + "report/kaohsiung-administration-international-affairs-2026"


def test_two_replicas_over_one_virtuoso(virtuoso: SparqlStore, virtuoso_remote: LiveServer,
                                        store: Store, tmp_path) -> None:
    """Stateless replicas: a write through one (with a token) is read through the other."""
    node = f"{ID}passage/replica-test"
    ask = {"query": f"ASK {{ <{node}> ?p ?o }}"}
    change = {"message": "replica test", "add": f"""
        @prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
        <{node}> a cd:Passage ; cd:quote "複本"@zh-Hant ; cd:lineStart 1 ; cd:lineEnd 2 ;
            prov:wasQuotedFrom <{REPORT}> ."""}
    try:
        with citydip_server({**remote_env(virtuoso), **write_env(tmp_path / "a.jsonl")}) as a, \
                citydip_server({**remote_env(virtuoso), **write_env(tmp_path / "b.jsonl")}) as b:
            assert httpx.get(b.url + "/sparql", params=ask, timeout=30).json()["boolean"] is False
            refused = httpx.post(a.url + "/changes", json=change, timeout=60)
            assert refused.status_code == 401
            written = httpx.post(a.url + "/changes", json=change, headers=bearer("bob"),
                                 timeout=60)
            assert written.status_code in (200, 201), written.text
            for replica in (b, virtuoso_remote):
                seen = httpx.get(replica.url + "/sparql", params=ask, timeout=30)
                assert seen.json()["boolean"] is True
            quote = httpx.get(b.url + "/sparql", timeout=30, params={
                "query": f"SELECT ?q WHERE {{ <{node}> <{CD}quote> ?q }}"}).json()
            assert [r["q"]["value"] for r in quote["results"]["bindings"]] == ["複本"]
            # A remote store may be written from elsewhere (here, through a): its answers are
            # never kept (server/kept_queries.py), however often the same query comes.
            for _ in range(3):
                again = httpx.get(b.url + "/sparql", params=ask, timeout=30)
                assert again.json()["boolean"] is True and "X-Page-Cache" not in again.headers
    finally:
        restore(virtuoso, store)


def test_a_reverted_change_leaves_nothing_in_virtuoso(virtuoso: SparqlStore, store: Store,
                                                     tmp_path) -> None:
    """Removing a language-tagged literal together with the marker (two graphs, one request):
    Virtuoso kept such literals when they came after the first graph of a DELETE DATA."""
    node = f"{ID}passage/revert-test"
    change = {"message": "revert test", "add": f"""
        @prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
        <{node}> a cd:Passage ; cd:quote "撤回"@zh-Hant ; cd:lineStart 1 ; cd:lineEnd 2 ;
            prov:wasQuotedFrom <{REPORT}> ."""}
    try:
        with citydip_server({**remote_env(virtuoso), **write_env(tmp_path / "h.jsonl")}) as a:
            written = httpx.post(a.url + "/changes", json=change, headers=bearer("bob"),
                                 timeout=60)
            assert written.status_code in (200, 201), written.text
            assert len(ask_store(virtuoso, f"SELECT * {{ <{node}> ?p ?o }}")) == 5
            reverted = httpx.post(f"{a.url}/changes/{written.json()['change']}/revert",
                                  headers=bearer("bob"), json={"message": "undo"}, timeout=60)
            assert reverted.status_code == 200, reverted.text
            assert ask_store(virtuoso, f"SELECT * {{ <{node}> ?p ?o }}") == []
    finally:
        restore(virtuoso, store)


# --- Virtuoso set up wrongly ------------------------------------------------------------------


def test_a_virtuoso_showing_its_system_graphs_is_refused() -> None:
    """Without the set-up of README, Virtuoso's own graphs would be part of our data."""
    with virtuoso_server(setup=False) as bare:
        remote = RemoteStore(bare.query_url, bare.update_url)
        with pytest.raises(RemoteError, match="system graphs"):
            remote.check_engine()
        assert remote.engine == "virtuoso"


def test_a_result_cap_below_the_data_fails_loudly(store: Store) -> None:
    """ResultSetMaxRows below the data: whole-data reads fail rather than lose triples."""
    with virtuoso_server(max_rows=1000) as capped:
        restore(capped, store)
        remote = RemoteStore(capped.query_url, capped.update_url)
        assert remote.count() == len(store.raw)
        with pytest.raises(RemoteError, match="ResultSetMaxRows"):
            remote.quads()
        with pytest.raises(RemoteError, match="ResultSetMaxRows"):
            remote.dump(ox.RdfFormat.N_TRIPLES)


# --- durability: Virtuoso killed --------------------------------------------------------------


def test_acknowledged_writes_survive_a_virtuoso_crash(tmp_path) -> None:
    """Every write acknowledged before Virtuoso is SIGKILLed is there after its restart (its
    transaction log), and our server then starts over the same database without reloading."""
    database, history = tmp_path / "virtuoso", tmp_path / "history.jsonl"
    nodes = [f"{ID}passage/crash-virtuoso-{i}" for i in range(5)]

    def change(node: str) -> dict:
        return {"message": f"crash {node}", "add": f"""
            @prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
            <{node}> a cd:Passage ; cd:quote "測試"@zh-Hant ; cd:lineStart 1 ; cd:lineEnd 2 ;
                prov:wasQuotedFrom <{REPORT}> ."""}

    def present(server: LiveServer) -> list[bool]:
        return [httpx.get(server.url + "/sparql", timeout=30, params={
            "query": f"ASK {{ <{node}> ?p ?o }}"}).json()["boolean"] for node in nodes]

    with virtuoso_server(directory=database) as first, citydip_server(
            {**remote_env(first), **write_env(history)}) as server:
        for node in nodes:
            written = httpx.post(server.url + "/changes", json=change(node),
                                 headers=bearer("alice"), timeout=60)
            assert written.status_code in (200, 201), written.text
        before = httpx.get(server.url + "/health", timeout=30).json()["triples"]
        kill_hard(first)
        gone = httpx.get(server.url + "/health", timeout=30)
        assert gone.status_code == 503
    with virtuoso_server(directory=database) as second, citydip_server(
            {**remote_env(second), **write_env(history)}) as server:
        assert present(server) == [True] * len(nodes)
        assert httpx.get(server.url + "/health", timeout=30).json()["triples"] == before


# --- writing through Virtuoso's authenticated endpoint -----------------------------------------


def test_writes_through_the_authenticated_endpoint(tmp_path) -> None:
    """Anonymous SPARQL may only read; our server writes as a user of its own (digest auth)."""
    user, password = VIRTUOSO_WRITER
    insert = "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }"
    with virtuoso_server(setup=VIRTUOSO_SETUP_AUTHENTICATED) as strict:
        anonymous = httpx.post(strict.update_url, data={"update": insert}, timeout=30)
        assert anonymous.status_code >= 400  # no SPARQL_UPDATE for the anonymous user
        authenticated = {**remote_env(strict), **write_env(tmp_path / "history.jsonl"),
                         "CITYDIP_REMOTE_UPDATE_URL": strict.url + "/sparql-auth"}
        wrong = RemoteStore(strict.query_url, strict.url + "/sparql-auth",
                            update_auth=httpx.DigestAuth(user, "wrong"))
        with pytest.raises(RemoteError):
            wrong.update(insert)
        with citydip_server({**authenticated, "CITYDIP_REMOTE_UPDATE_USER": user,
                             "CITYDIP_REMOTE_UPDATE_PASSWORD": password}) as server:
            assert httpx.get(server.url + "/health", timeout=30).json()["triples"] > 4000
            node = f"{ID}passage/authenticated"
            written = httpx.post(server.url + "/changes", headers=bearer("alice"), timeout=60,
                                 json={"message": "auth", "add": f"""
                @prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
                <{node}> a cd:Passage ; cd:quote "認證"@zh-Hant ; cd:lineStart 1 ;
                    cd:lineEnd 2 ; prov:wasQuotedFrom <{REPORT}> ."""})
            assert written.status_code in (200, 201), written.text
            seen = ask_store(strict, f"SELECT ?q {{ <{node}> <{CD}quote> ?q }}")
            assert seen == [{"q": "認證"}]


# --- what is never forwarded ------------------------------------------------------------------


REFUSED = [
    "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }",
    "SELECT (bif:http_get('http://127.0.0.1:9/') AS ?x) {}",
    "PREFIX b: <bif:> SELECT (b:sys_stat('st_dbms_name') AS ?x) {}",
    "BASE <bif:> SELECT (<sys_stat>('st_dbms_name') AS ?x) {}",
    "SELECT (<\\u0062if:sys_stat>('st_dbms_name') AS ?x) {}",
    "DEFINE get:soft \"replace\" SELECT * FROM <http://example.org/> { ?s ?p ?o }",
]


@pytest.mark.parametrize("query", REFUSED)
def test_engine_extensions_and_updates_never_reach_the_store(remote_server: LiveServer,
                                                             store: Store, query: str) -> None:
    """Virtuoso runs updates sent as queries and its `bif:` built-ins (http_get reaches any
    host): the backend forwards standard SPARQL 1.1 queries only."""
    response = httpx.post(remote_server.url + "/sparql", data={"query": query}, timeout=30)
    assert response.status_code == 400, response.text
    assert "Virtuoso" not in response.text and "OpenLink" not in response.text
    count = ask_store(remote_server.store, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    assert int(count[0]["n"]) == len(store.raw)


def test_a_base_iri_from_the_host_header_cannot_smuggle_text(remote_server: LiveServer) -> None:
    """Relative IRIs resolve against our endpoint's URL, which the Host header shapes: the text
    sent with that base is vetted as a whole (the server may also clean the Host up first)."""
    host = "x> SELECT (<bif:sys_stat>('st_dbms_name') AS ?v) {} #"
    response = httpx.post(remote_server.url + "/sparql", data={"query": "SELECT * {}"},
                          headers={"Host": host}, timeout=30)
    assert response.status_code in (200, 400), response.text
    assert "OpenLink" not in response.text and '"v"' not in response.text


# --- a changeset applied by the remote store ---------------------------------------------------


@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_a_changeset_is_applied_whole_by_the_remote_store(engine: str,
                                                          request: pytest.FixtureRequest) -> None:
    """RemoteStore.apply (graph.store.protocol.QuadStore): removals then additions, in one
    request, terms written by pyoxigraph (a literal that looks like SPARQL stays a literal)."""
    target = request.getfixturevalue(engine)
    env = remote_env(target)
    remote = RemoteStore(env["CITYDIP_REMOTE_QUERY_URL"], env["CITYDIP_REMOTE_UPDATE_URL"])
    graph, other = (ox.NamedNode(f"urn:citydiplomacy:test:apply-{n}") for n in ("g", "h"))
    p = ox.NamedNode("urn:citydiplomacy:test:p")
    tricky = ox.Literal('" } } ; CLEAR ALL ; INSERT DATA { GRAPH <urn:y> { <urn:a> <urn:b> "c\n'
                        '漢字', language="zh-hant")
    before = {ox.Quad(GDYNIA, p, ox.Literal("old"), graph),
              ox.Quad(GDYNIA, p, ox.Literal("kept"), other)}
    after = {ox.Quad(GDYNIA, p, ox.Literal("kept"), other), ox.Quad(GDYNIA, p, tricky, graph),
             ox.Quad(GDYNIA, p, ox.Literal("7", datatype=ox.NamedNode(XSD_INTEGER)), other)}
    try:
        remote.apply(set(), before)
        assert set(remote.quads_for_pattern(GDYNIA, p, None, None)) == before
        remote.apply({ox.Quad(GDYNIA, p, ox.Literal("old"), graph)}, after - before)
        assert set(remote.quads_for_pattern(GDYNIA, p, None, None)) == after
        remote.apply(after, set())
        assert list(remote.quads_for_pattern(GDYNIA, p, None, None)) == []
    finally:
        for name in (graph, other):
            remote.update(f"DROP SILENT GRAPH {name}")


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


def test_an_answer_with_an_sql_state_is_a_timeout() -> None:
    """Virtuoso's anytime queries answer 200 with the rows found so far and X-SQL-State: never
    served as a result. Its time limit as a 500 (S1T00), or a refusal for the estimated time, is
    a timeout too, and other 500s stay 502."""
    partial = {"x-sql-state": "S1TAT", "x-sql-message": "RC...: Returning incomplete results"}
    with pytest.raises(Stopped, match="incomplete"):
        check_answer(200, partial, json.dumps(SOLUTIONS).encode())
    with pytest.raises(Stopped, match="time limit"):
        check_answer(500, {}, b"Virtuoso S1T00 Error SR171: Transaction timed out")
    with pytest.raises(Stopped, match="would run past"):
        check_answer(500, {}, b"Virtuoso 42000 Error The estimated execution time 773 (sec) "
                              b"exceeds the limit of 400 (sec).")
    check_answer(500, {}, b"Virtuoso 22023 Error SR601: something else")
    check_answer(200, JSON_TYPE, json.dumps(SOLUTIONS).encode())


def test_virtuoso_answers_are_made_standard() -> None:
    """An ASK as a one-row table becomes a boolean; booleans written 1/0 become true/false;
    rows naming Virtuoso's own graphs go; other engines' answers are left alone."""
    virtuoso = {"server": "Virtuoso/07.20.3229 (Linux)", **JSON_TYPE}
    ask = {"head": {"vars": ["__ASK_RETVAL"]}, "results": {"bindings": [{"__ASK_RETVAL": {
        "type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer",
        "value": "1"}}]}}
    assert json.loads(normalize_answer(virtuoso, json.dumps(ask).encode(), "ASK")) == {
        "head": {}, "boolean": True}
    flag = {"type": "typed-literal", "datatype": XSD_BOOLEAN, "value": "0"}
    table = {"head": {"vars": ["x"]}, "results": {"bindings": [
        {"x": flag}, {"x": {"type": "uri", "value": SYSTEM_GRAPH}}]}}
    fixed = json.loads(normalize_answer(virtuoso, json.dumps(table).encode(), "SELECT"))
    assert fixed["results"]["bindings"] == [{"x": {**flag, "value": "false"}}]
    assert normalize_answer(JSON_TYPE, json.dumps(table).encode(), "SELECT") == json.dumps(
        table).encode()
    triples = f'<urn:s> <urn:p> "1"^^<{XSD_BOOLEAN}> .\n'.encode()
    fixed = normalize_answer({"server": "Virtuoso/7", **NT_TYPE}, triples, "CONSTRUCT")
    assert list(ox.parse(fixed, format=ox.RdfFormat.N_TRIPLES))[0].object.value == "true"
