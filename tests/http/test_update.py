"""The write API against a live server: tokens, SPARQL Update, Graph Store Protocol, changesets.

One server with writes enabled (in memory, history in a temporary file) serves the module; the
session's read-only server checks that writes are refused when no token is configured.
"""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import pytest
from live import LiveServer, bearer, until

CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
GRAPHS = "https://w3id.org/citydiplomacy/graph/"
REPORT = f"{ID}report/kaohsiung-administration-international-affairs-2026"
PREFIXES = f"""PREFIX cd: <{CD}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
UPDATE = "application/sparql-update"


def passage_turtle(node: str, quote: str = "測試") -> str:
    """A valid passage: the smallest thing an editor can add on its own."""
    return f"""@prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
<{node}> a cd:Passage ; cd:quote "{quote}"@zh-Hant ; cd:lineStart 7 ; cd:lineEnd 8 ;
    prov:wasQuotedFrom <{REPORT}> .
"""


def passage_triples(node: str) -> str:
    return (f'<{node}> a cd:Passage ; cd:quote "測試"@zh-Hant ; cd:lineStart 7 ; cd:lineEnd 8 ; '
            f'prov:wasQuotedFrom <{REPORT}> .')


def new_node(kind: str = "passage") -> str:
    return f"{ID}{kind}/test-{uuid.uuid4().hex[:10]}"


def ask(server: LiveServer, pattern: str) -> bool:
    response = httpx.get(f"{server}/sparql", params={"query": f"{PREFIXES} ASK {{ {pattern} }}"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def count(server: LiveServer, subject: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{subject}> ?p ?o }}"
    response = httpx.get(f"{server}/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def update(server: LiveServer, text: str, who: str = "alice", **params) -> httpx.Response:
    return httpx.post(f"{server}/update", content=text.encode(), params=params,
                      headers={**bearer(who), "Content-Type": UPDATE}, timeout=60)


def triples(server: LiveServer) -> int:
    return httpx.get(f"{server}/health", timeout=10).json()["triples"]


# --- who may write -------------------------------------------------------------------------------

def test_without_configured_tokens_every_write_is_403(live_server: LiveServer) -> None:
    attempts = [
        ("POST", "/update", {"content": b"INSERT DATA { <http://a> <http://b> <http://c> }",
                             "headers": {"Content-Type": UPDATE}}),
        ("POST", "/changes", {"json": {"message": "x", "add": passage_turtle(new_node())}}),
        ("PUT", f"/store?graph={GRAPHS}edits", {"content": b"", "headers":
                                                {"Content-Type": "text/turtle"}}),
        ("POST", "/store?default", {"content": b"", "headers": {"Content-Type": "text/turtle"}}),
        ("DELETE", f"/store?graph={GRAPHS}edits", {}),
        ("POST", "/changes/1/revert", {}),
    ]
    for method, path, kwargs in attempts:
        headers = {**kwargs.pop("headers", {}), **bearer("alice")}
        response = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30,
                                 **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        assert "set CITYDIP_WRITE_TOKENS to enable writes" in response.text
    # Reads stay public.
    assert httpx.get(f"{live_server}/changes", timeout=10).json() == []
    assert httpx.get(f"{live_server}/store?default", timeout=30).status_code == 200


def test_a_missing_or_wrong_token_is_401(editor_server: LiveServer) -> None:
    text = f"{PREFIXES} INSERT DATA {{ {passage_triples(new_node())} }}"
    missing = httpx.post(f"{editor_server}/update", content=text.encode(),
                         headers={"Content-Type": UPDATE}, timeout=30)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = httpx.post(f"{editor_server}/update", content=text.encode(),
                       headers={"Content-Type": UPDATE, "Authorization": "Bearer guess"},
                       timeout=30)
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    basic = httpx.post(f"{editor_server}/update", content=text.encode(),
                       headers={"Content-Type": UPDATE, "Authorization": "Basic YTpi"}, timeout=30)
    assert basic.status_code == 401
    # bob's token is configured as a SHA-256 digest only.
    accepted = update(editor_server, text, who="bob")
    assert accepted.status_code == 200, accepted.text
    entry = httpx.get(f"{editor_server}/changes/{accepted.json()['change']}", timeout=10).json()
    assert entry["author"] == "bob"


# --- SPARQL Update -----------------------------------------------------------------------------

def test_a_valid_insert_commits_and_queries_see_it(editor_server: LiveServer) -> None:
    node = new_node()
    assert not ask(editor_server, f"<{node}> ?p ?o")  # a query first: a worker is running
    response = update(editor_server, f"{PREFIXES} INSERT DATA {{ {passage_triples(node)} }}",
                      message="Add a passage")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["committed"] and body["conforms"] and body["added"] == 5
    assert response.headers["Location"].endswith(f"/changes/{body['change']}")
    # The write's steps, for editors and the load benchmark: each a duration, the whole last.
    steps = dict(part.strip().split(";dur=") for part in
                 response.headers["Server-Timing"].split(","))
    assert list(steps)[-1] == "total"
    assert {"lock", "validate", "log", "apply", "index", "follow", "announce"} <= set(steps)
    assert all(0 <= float(ms) <= float(steps["total"]) for ms in steps.values())
    # The query workers were renewed: the very next query sees the change.
    assert count(editor_server, node) == 5
    entry = httpx.get(f"{editor_server}/changes/{body['change']}", timeout=10).json()
    assert entry["author"] == "alice" and entry["message"] == "Add a passage"
    assert node in entry["added"] and entry["removed"] == ""


def test_a_write_whose_client_goes_away_still_lands_and_the_next_one_goes(
        editor_server: LiveServer) -> None:
    # An editor's connection closed as soon as the request is sent (a timeout, a closed
    # notebook): the write is validated, logged and committed all the same, announced as a new
    # data version, and the write lock is let go for the next editor. Nothing is lost.
    version = httpx.get(f"{editor_server}/health", timeout=10).json()["data_version"]
    node = new_node()
    body = f"{PREFIXES} INSERT DATA {{ {passage_triples(node)} }}".encode()
    url = httpx.URL(str(editor_server))
    head = (f"POST /update?message=gone HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Authorization: {bearer('alice')['Authorization']}\r\n"
            f"Content-Type: {UPDATE}\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((url.host, url.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
    # closed without reading the answer
    assert until(lambda: ask(editor_server, f"<{node}> ?p ?o"), seconds=30)
    entries = httpx.get(f"{editor_server}/changes", timeout=10).json()
    assert any(e["message"] == "gone" for e in entries)
    assert httpx.get(f"{editor_server}/health", timeout=10).json()["data_version"] > version
    after = update(editor_server, f"{PREFIXES} INSERT DATA {{ {passage_triples(new_node())} }}")
    assert after.status_code == 200 and after.json()["committed"], after.text


def test_named_queries_see_a_new_label(editor_server: LiveServer) -> None:
    label = f"Testopolis {uuid.uuid4().hex[:6]}"
    text = (f'{PREFIXES} INSERT DATA {{ <{ID}city/gdynia> rdfs:label "{label}"@pl }}')
    assert update(editor_server, text).status_code == 200
    found = httpx.get(f"{editor_server}/queries/label-search", params={"text": label},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert found.status_code == 200, found.text
    assert f"{ID}city/gdynia" in found.text


def test_an_invalid_update_is_422_and_changes_nothing(editor_server: LiveServer) -> None:
    agreement = new_node("agreement")
    text = f"""{PREFIXES} INSERT DATA {{
        <{agreement}> a cd:SisterCityAgreement ;
            rdfs:label "Half an agreement"@en , "半個協定"@zh-Hant ;
            cd:party <{ID}city/gdynia> ; cd:dateNotStated true ;
            prov:wasDerivedFrom <{ID}passage/kaohsiung-report-l84> . }}"""
    before = triples(editor_server)
    history = httpx.get(f"{editor_server}/changes", timeout=10).headers["X-Total-Count"]
    response = update(editor_server, text)
    assert response.status_code == 422
    report = response.json()
    assert report["conforms"] is False and report["committed"] is False
    finding = next(r for r in report["results"] if r["path"] == f"{CD}party")
    assert finding["focus"] == agreement and finding["severity"] == "Violation"
    assert finding["component"].endswith("MinCountConstraintComponent")
    assert "at least two parties" in finding["message"] and finding["shape"]
    assert "[Violation]" in report["text"]
    as_text = httpx.post(f"{editor_server}/update", content=text.encode(), timeout=60,
                         headers={**bearer("alice"), "Content-Type": UPDATE,
                                  "Accept": "text/plain"})
    assert as_text.status_code == 422 and as_text.text.startswith("Conforms: no")
    assert triples(editor_server) == before and not ask(editor_server, f"<{agreement}> ?p ?o")
    assert httpx.get(f"{editor_server}/changes",
                     timeout=10).headers["X-Total-Count"] == history


def test_warnings_are_returned_but_do_not_block(editor_server: LiveServer) -> None:
    city = new_node("city")
    text = f"""{PREFIXES} PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
        INSERT DATA {{ <{city}> a cd:City ; rdfs:label "Sopot"@en , "索波特"@zh-Hant ;
            cd:country <{ID}country/poland> ; cd:partOf <{ID}country/poland> . }}"""
    response = update(editor_server, text)
    assert response.status_code == 200, response.text
    warnings = {w["message"].split(":")[0] for w in response.json()["warnings"]}
    assert any("latitude" in w for w in warnings)  # no coordinates yet: a warning
    assert any("country's language" in w for w in warnings)  # no Polish label: a warning
    assert ask(editor_server, f"<{city}> a cd:City")


def test_using_graph_uri_sets_the_where_clauses_dataset(editor_server: LiveServer) -> None:
    text = (f'{PREFIXES} INSERT {{ ?city rdfs:comment "checked" }} '
            f'WHERE {{ ?city rdfs:label "Gdynia"@en }}')
    elsewhere = httpx.post(f"{editor_server}/update", timeout=60, headers=bearer("alice"),
                           data={"update": text, "using-graph-uri": f"{GRAPHS}reference"})
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["change"] is None  # Gdynia's label is not in the reference graph
    assert not ask(editor_server, f'<{ID}city/gdynia> rdfs:comment "checked"')
    there = httpx.post(f"{editor_server}/update", timeout=60, headers=bearer("alice"),
                       data={"update": text, "using-graph-uri": f"{GRAPHS}kaohsiung-report"})
    assert there.status_code == 200 and there.json()["added"] == 1
    assert ask(editor_server, f'<{ID}city/gdynia> rdfs:comment "checked"')
    both = httpx.post(f"{editor_server}/update", timeout=60, headers=bearer("alice"),
                      data={"update": f"WITH <{GRAPHS}edits> {text}",
                            "using-graph-uri": f"{GRAPHS}reference"})
    assert both.status_code == 400


def test_load_service_and_protected_graphs_are_refused(editor_server: LiveServer) -> None:
    before = triples(editor_server)
    refused = {
        "LOAD <http://example.org/data.ttl>": "LOAD",
        (f'INSERT {{ ?s <{CD}note> "x" }} WHERE {{ SERVICE <http://example.org/sparql> '
         f'{{ ?s ?p ?o }} }}'): "SERVICE",
        f"DELETE DATA {{ GRAPH <{GRAPHS}ontology> {{ <{CD}City> a "
        f"<http://www.w3.org/2002/07/owl#Class> }} }}": "ontology",
        f"INSERT DATA {{ GRAPH <{GRAPHS}shortcuts> {{ <{ID}city/gdynia> <{CD}partnerOf> "
        f"<{ID}city/kaohsiung> }} }}": "shortcuts",
        f"DROP GRAPH <{GRAPHS}ontology>": "ontology",
        "CLEAR ALL": "every graph",
        f"INSERT DATA {{ <{CD}City> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
        f"<{CD}Actor> }}": "vocabulary",
    }
    for text, why in refused.items():
        response = update(editor_server, text)
        assert response.status_code == 403, (text, response.text)
        assert why in response.text, response.text
    assert triples(editor_server) == before
    assert update(editor_server, "INSERT DATA { oops }").status_code == 400
    assert httpx.get(f"{editor_server}/update", timeout=10).status_code == 405


# --- Graph Store Protocol ------------------------------------------------------------------------

def test_graph_store_protocol_on_a_named_graph(editor_server: LiveServer) -> None:
    graph = f"{GRAPHS}test-{uuid.uuid4().hex[:8]}"
    first, second = new_node(), new_node()
    url = f"{editor_server}/store"
    assert httpx.get(url, params={"graph": graph}, timeout=30).status_code == 404

    put = httpx.put(url, params={"graph": graph}, content=passage_turtle(first).encode(),
                    headers={**bearer("alice"), "Content-Type": "text/turtle"}, timeout=60)
    assert put.status_code == 201, put.text
    got = httpx.get(url, params={"graph": graph}, headers={"Accept": "application/n-triples"},
                    timeout=30)
    assert got.status_code == 200 and got.headers["content-type"].startswith(
        "application/n-triples")
    assert got.text.count(first) == 5
    head = httpx.head(url, params={"graph": graph}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/turtle")

    jsonld = {"@id": second, "@type": f"{CD}Passage",
              f"{CD}quote": {"@value": "第二段", "@language": "zh-Hant"},
              f"{CD}lineStart": 9, f"{CD}lineEnd": 9,
              "http://www.w3.org/ns/prov#wasQuotedFrom": {"@id": REPORT}}
    post = httpx.post(url, params={"graph": graph}, content=json.dumps(jsonld).encode(),
                      headers={**bearer("alice"), "Content-Type": "application/ld+json"},
                      timeout=60)
    assert post.status_code == 200, post.text
    assert count(editor_server, second) == 5

    replaced = httpx.put(url, params={"graph": graph}, content=(
        f"@prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .\n"
        f"<{graph}> {{ {passage_triples(second)} }}").encode(),
        headers={**bearer("alice"), "Content-Type": "application/trig"}, timeout=60)
    assert replaced.status_code == 200, replaced.text
    assert count(editor_server, first) == 0 and count(editor_server, second) == 5
    trig = (f"@prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .\n"
            f"<{GRAPHS}elsewhere> {{ {passage_triples(first)} }}")
    stray = httpx.post(url, params={"graph": graph}, content=trig.encode(),
                       headers={**bearer("alice"), "Content-Type": "application/trig"},
                       timeout=60)
    assert stray.status_code == 400  # a Graph Store request writes its own graph only
    nt = httpx.post(url, params={"graph": graph}, timeout=60,
                    content=f'<{second}> <http://www.w3.org/2000/01/rdf-schema#comment> "nt" .'
                    .encode(), headers={**bearer("alice"), "Content-Type":
                                        "application/n-triples"})
    assert nt.status_code == 200 and nt.json()["added"] == 1

    invalid = httpx.put(url, params={"graph": graph}, timeout=60, content=(
        f"@prefix cd: <{CD}> . <{second}> a cd:Passage .").encode(),
        headers={**bearer("alice"), "Content-Type": "text/turtle"})
    assert invalid.status_code == 422 and count(editor_server, second) == 6
    unsupported = httpx.put(url, params={"graph": graph}, content=b"x",
                            headers={**bearer("alice"), "Content-Type": "image/png"}, timeout=30)
    assert unsupported.status_code == 415

    deleted = httpx.delete(url, params={"graph": graph}, headers=bearer("alice"), timeout=60)
    assert deleted.status_code == 200 and deleted.json()["removed"] == 6
    assert httpx.get(url, params={"graph": graph}, timeout=30).status_code == 404
    again = httpx.delete(url, params={"graph": graph}, headers=bearer("alice"), timeout=60)
    assert again.status_code == 404


def test_graph_store_protocol_on_the_default_graph(editor_server: LiveServer) -> None:
    url = f"{editor_server}/store"
    union = httpx.get(url, params={"default": ""}, headers={"Accept": "text/turtle"}, timeout=60)
    assert union.status_code == 200 and "Gdynia" in union.text
    node = new_node()
    post = httpx.post(f"{url}?default", content=passage_turtle(node).encode(), timeout=60,
                      headers={**bearer("alice"), "Content-Type": "text/turtle"})
    assert post.status_code in (200, 201), post.text
    assert ask(editor_server, f"GRAPH <{GRAPHS}edits> {{ <{node}> a cd:Passage }}")
    for method in ("PUT", "DELETE"):
        response = httpx.request(method, f"{url}?default", content=b"", timeout=30,
                                 headers={**bearer("alice"), "Content-Type": "text/turtle"})
        assert response.status_code == 403
    assert httpx.get(url, timeout=10).status_code == 400
    assert httpx.get(url, params={"graph": "not an iri"}, timeout=10).status_code == 400
    ontology = httpx.delete(url, params={"graph": f"{GRAPHS}ontology"}, headers=bearer("alice"),
                            timeout=60)
    assert ontology.status_code == 403


# --- changesets ----------------------------------------------------------------------------------

def post_change(server: LiveServer, doc: dict, who: str = "alice") -> httpx.Response:
    return httpx.post(f"{server}/changes", json=doc, headers=bearer(who), timeout=60)


def test_changesets_list_show_and_revert(editor_server: LiveServer) -> None:
    passage = new_node()
    label = f'<{ID}city/gdynia> <http://www.w3.org/2000/01/rdf-schema#label> "Gdynia"@en .'
    added = post_change(editor_server, {
        "message": "A passage, and Gdynia's English label moved to the edits graph",
        "add": passage_turtle(passage) + label, "remove": label})
    assert added.status_code == 200, added.text
    change = added.json()["change"]
    assert added.json()["added"] == 6 and added.json()["removed"] == 1

    listed = httpx.get(f"{editor_server}/changes", timeout=10).json()
    assert listed[0]["id"] == change and set(listed[0]) >= {"id", "time", "author", "message",
                                                             "added", "removed"}
    assert listed[0]["author"] == "alice" and listed[0]["added"] == 6
    shown = httpx.get(f"{editor_server}/changes/{change}", timeout=10).json()
    assert passage in shown["added"] and f"{GRAPHS}kaohsiung-report" in shown["removed"]
    assert httpx.get(f"{editor_server}/changes/999999", timeout=10).status_code == 404

    reverted = httpx.post(f"{editor_server}/changes/{change}/revert", headers=bearer("bob"),
                          json={"message": "Undo"}, timeout=60)
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["removed"] == 6 and reverted.json()["added"] == 1
    assert count(editor_server, passage) == 0
    assert ask(editor_server, f'GRAPH <{GRAPHS}kaohsiung-report> {{ <{ID}city/gdynia> '
                              f'rdfs:label "Gdynia"@en }}')
    entry = httpx.get(f"{editor_server}/changes/{reverted.json()['change']}", timeout=10).json()
    assert entry["reverts"] == change and entry["author"] == "bob" and entry["message"] == "Undo"
    twice = httpx.post(f"{editor_server}/changes/{change}/revert", headers=bearer("bob"),
                       timeout=60)
    assert twice.status_code == 409


def test_a_revert_is_validated_too(editor_server: LiveServer) -> None:
    passage, agreement = new_node(), new_node("agreement")
    first = post_change(editor_server, {"message": "A passage", "add": passage_turtle(passage)})
    assert first.status_code == 200, first.text
    second = post_change(editor_server, {"message": "An agreement citing it", "add": f"""
        @prefix cd: <{CD}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <{agreement}> a cd:MemorandumOfUnderstanding ;
            rdfs:label "Test memorandum"@en , "測試備忘錄"@zh-Hant ;
            cd:party <{ID}city/kaohsiung> , <{ID}city/gdynia> ; cd:dateNotStated true ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <{passage}> ."""})
    assert second.status_code == 200, second.text
    refused = httpx.post(f"{editor_server}/changes/{first.json()['change']}/revert",
                         headers=bearer("alice"), timeout=60)
    assert refused.status_code == 422  # the agreement would cite a passage that is gone
    assert any(r["focus"] == agreement for r in refused.json()["results"])
    assert count(editor_server, passage) == 5


def test_bad_changesets_are_400(editor_server: LiveServer) -> None:
    for doc in ({"add": passage_turtle(new_node())}, {"message": "nothing"},
                {"message": "x", "add": "not turtle"}, {"message": "x", "add": 3},
                {"message": "x", "add": passage_turtle(new_node()), "colour": "red"}):
        assert post_change(editor_server, doc).status_code == 400, doc
    assert httpx.post(f"{editor_server}/changes", content=b"{", headers={
        **bearer("alice"), "Content-Type": "application/json"}, timeout=30).status_code == 400


@pytest.mark.parametrize("fmt", ["json-ld", "n-triples"])
def test_changesets_in_other_formats(editor_server: LiveServer, fmt: str) -> None:
    node = new_node()
    if fmt == "json-ld":
        doc = {"message": "JSON-LD", "add": {
            "@context": {"cd": CD, "prov": "http://www.w3.org/ns/prov#"},
            "@id": node, "@type": "cd:Passage",
            "cd:quote": {"@value": "測試", "@language": "zh-Hant"},
            "cd:lineStart": 3, "cd:lineEnd": 4, "prov:wasQuotedFrom": {"@id": REPORT}}}
    else:
        doc = {"message": "N-Triples", "format": "n-triples", "add": "\n".join([
            f"<{node}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{CD}Passage> .",
            f'<{node}> <{CD}quote> "測試"@zh-Hant .',
            f'<{node}> <{CD}lineStart> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .',
            f'<{node}> <{CD}lineEnd> "4"^^<http://www.w3.org/2001/XMLSchema#integer> .',
            f"<{node}> <http://www.w3.org/ns/prov#wasQuotedFrom> <{REPORT}> ."])}
    response = post_change(editor_server, doc)
    assert response.status_code == 200, response.text
    assert count(editor_server, node) == 5


# --- the remote backend --------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_writes_to_a_remote_store(tmp_path, engine: str, request, store) -> None:
    """Through a SPARQL update endpoint: validated here, committed there in one request.

    Over oxigraph a fresh store; over the session's Virtuoso, put back as it was afterwards."""
    from contextlib import nullcontext

    from live import citydip_server, oxigraph_server, remote_env, restore, write_env

    if engine == "oxigraph":
        started = oxigraph_server()
    else:
        started = nullcontext(request.getfixturevalue("virtuoso"))
    with started as target, citydip_server(
            {**remote_env(target), **write_env(tmp_path / "history.jsonl")}) as server:
        try:
            _write_through(server, target)
        finally:
            if engine == "virtuoso":
                restore(target, store)


def _write_through(server, target) -> None:
    node = new_node()
    response = post_change(server, {"message": "Remote", "add": passage_turtle(node)})
    assert response.status_code == 200, response.text
    assert count(server, node) == 5
    direct = httpx.post(target.query_url, data={"query": f"ASK {{ GRAPH <{GRAPHS}edits> "
                                                         f"{{ <{node}> ?p ?o }} }}"},
                        headers={"Accept": "application/sparql-results+json"}, timeout=30)
    answer = direct.json()
    assert answer.get("boolean") is True or answer["results"]["bindings"][0][
        "__ASK_RETVAL"]["value"] == "1"  # Virtuoso's own form of an ASK answer
    marker = httpx.post(target.query_url, data={"query": (
        f"SELECT ?m WHERE {{ GRAPH <{GRAPHS}meta> {{ ?s ?p ?m }} }}")},
        headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    assert marker["results"]["bindings"][0]["m"]["value"].endswith("#1")
    broken = post_change(server, {"message": "Broken", "add": (
        f"<{new_node()}> a <{CD}Passage> .")})
    assert broken.status_code == 422
    assert update(server, "LOAD <http://example.org/x>").status_code == 403
