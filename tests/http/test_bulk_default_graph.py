"""A server whose data files went to the default graph (CITYDIP_DEFAULT_GRAPH_BYTES at 1 byte, so
every file of the data folder's own is "large"): its pages show them, its counts count them, and
a write that would remove one of their statements gets a 403 that says why, and loses nothing.

graph.store.load.graph_of; tests/unit/test_default_graph.py compares the queries with a fill in
named graphs. Real HTTP against a running server, on an on-disk store filled by the bulk loader.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from live import bearer, citydip_server, until, write_env

GDYNIA = "https://w3id.org/citydiplomacy/id/city/gdynia"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("default-graph")
    env = write_env(folder / "history.jsonl", CITYDIP_STORE_PATH=str(folder / "store"),
                    CITYDIP_DEFAULT_GRAPH_BYTES="1")
    with citydip_server(env) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def count(client, sparql: str) -> int:
    answer = client.get("/sparql", params={"query": sparql},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_the_files_statements_are_on_the_entity_page(client) -> None:
    page = client.get("/id/city/gdynia", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Kaohsiung" in page.text
    turtle = client.get("/id/city/gdynia", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and "Gdynia" in turtle.text


def test_the_front_page_counts_the_default_graphs_triples(client) -> None:
    every = count(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    named = count(client, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert every > named > 0
    page = until(lambda: (answer := client.get("/")).text.count('id="count-triples" data-count')
                 and answer)  # counted in the background at a first start
    assert page, "the front page's counts never came"
    shown = re.search(r'id="count-triples" data-count="(\d+)"', page.text)
    assert shown and int(shown.group(1)) == every
    assert f"<td class=\"num\">{every - named}</td>" in page.text
    void = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert f'"{every}"^^<http://www.w3.org/2001/XMLSchema#integer>' in void.text


def test_removing_a_statement_of_the_default_graph_is_refused_and_loses_nothing(client) -> None:
    ask = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{GDYNIA}> <{LABEL}> ?label }}"
    labels = count(client, ask)
    assert labels > 0
    update = f"DELETE WHERE {{ <{GDYNIA}> <{LABEL}> ?label }}"
    answer = client.post("/update", content=update,
                         headers={"Content-Type": "application/sparql-update", **bearer("alice")})
    assert answer.status_code == 403 and "CITYDIP_DEFAULT_GRAPH_BYTES" in answer.text
    change = {"message": "a label less", "remove": f"<{GDYNIA}> <{LABEL}> \"Gdynia\"@en ."}
    answer = client.post("/changes", content=json.dumps(change),
                         headers={"Content-Type": "application/json", **bearer("alice")})
    assert answer.status_code == 403 and "default graph" in answer.text
    assert count(client, ask) == labels
