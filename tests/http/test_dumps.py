"""Data dumps: /dump files against the endpoint's own counts, their announcement, and renewal."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from live import LiveServer, bearer, citydip_server, write_env

from graph.store.dumps import DATASET_LICENSE, FULL_DUMP, current_dump, graph_file
from graph.store.embedded import Store

EX = "https://w3id.org/citydiplomacy/graph/"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"


@pytest.fixture(scope="module")
def dump_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("dumps")
    with citydip_server(write_env(tmp / "history.jsonl",
                                  CITYDIP_DUMP_DIR=str(tmp / "dumps"))) as server:
        server.dump_dir = tmp / "dumps"  # type: ignore[attr-defined]
        yield server


def select(server: LiveServer, query: str) -> list[dict]:
    response = httpx.post(f"{server}/sparql", data={"query": query}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return response.json()["results"]["bindings"]


def graph_counts(server: LiveServer) -> dict[str, int]:
    rows = select(server, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


def listing(server: LiveServer) -> list[dict]:
    response = httpx.get(f"{server}/dump", headers={"Accept": "application/json"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["files"]


def test_the_full_dump_holds_every_quad_of_the_endpoint(dump_server: LiveServer) -> None:
    counts = graph_counts(dump_server)
    files = listing(dump_server)
    assert files[0]["name"] == FULL_DUMP and files[0]["graph"] is None
    response = httpx.get(f"{dump_server}/dump/{FULL_DUMP}", timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert FULL_DUMP in response.headers["content-disposition"]
    quads = list(ox.parse(gzip.decompress(response.content), format=ox.RdfFormat.N_QUADS))
    per_graph: dict[str, int] = {}
    for quad in quads:
        per_graph[quad.graph_name.value] = per_graph.get(quad.graph_name.value, 0) + 1
    assert per_graph == counts
    assert files[0]["quads"] == len(quads) == sum(counts.values())


def test_each_named_graph_is_a_turtle_file(dump_server: LiveServer) -> None:
    counts = graph_counts(dump_server)
    files = {f["graph"]: f for f in listing(dump_server) if f["graph"]}
    assert set(files) == set(counts)
    for graph, entry in files.items():
        assert entry["name"] == graph_file(graph)
        response = httpx.get(f"{dump_server}/dump/{entry['name']}", timeout=60)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/turtle")
        triples = list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))
        assert len(triples) == counts[graph] == entry["quads"], graph
        assert entry["license"] == DATASET_LICENSE


def test_the_dumps_are_announced_in_void_and_on_the_front_page(dump_server: LiveServer) -> None:
    void = httpx.get(f"{dump_server}/.well-known/void", headers={"Accept": "text/turtle"},
                     timeout=30)
    triples = list(ox.parse(void.content, format=ox.RdfFormat.TURTLE,
                            base_iri=f"{dump_server}/"))
    dumps = {t.object.value for t in triples
             if t.predicate.value == "http://rdfs.org/ns/void#dataDump"}
    expected = {f"{dump_server}/dump/{FULL_DUMP}"} | {
        f"{dump_server}/dump/{graph_file(g)}" for g in graph_counts(dump_server)}
    assert dumps == expected
    for url in dumps:
        assert httpx.head(url, timeout=60).status_code == 200, url
    home = httpx.get(f"{dump_server}/", timeout=30).text
    assert f'href="/dump/{FULL_DUMP}"' in home
    assert 'rel="license">CC BY 4.0</a>' in home
    page = httpx.get(f"{dump_server}/dump", timeout=30)
    assert page.headers["content-type"].startswith("text/html")
    assert f'href="/dump/{graph_file(EX + "kaohsiung-report")}"' in page.text


def test_unknown_names_and_paths_outside_the_dump_are_404(dump_server: LiveServer) -> None:
    for name in ("nothing.ttl", "../manifest.json", "..%2F..%2Fpyproject.toml", "manifest.json",
                 "graphs/../manifest.json"):
        response = httpx.get(f"{dump_server}/dump/{name}", timeout=30)
        assert response.status_code == 404, name


def test_a_write_renews_the_dump_and_unchanged_data_reuses_it(dump_server: LiveServer) -> None:
    url = f"{dump_server}/dump/{FULL_DUMP}"
    first = httpx.get(url, timeout=60)
    again = httpx.get(url, timeout=60)
    assert first.headers["etag"] == again.headers["etag"]  # the same file, not written again
    label = f"Dumpville {uuid.uuid4().hex[:6]}"
    insert = ('PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> INSERT DATA { '
              f'<https://w3id.org/citydiplomacy/id/city/gdynia> rdfs:label "{label}"@pl }}')
    written = httpx.post(f"{dump_server}/update", content=insert.encode(), timeout=60,
                         headers={"Content-Type": "application/sparql-update", **bearer("alice")})
    assert written.status_code == 200, written.text
    after = httpx.get(url, timeout=60)
    assert after.headers["etag"] != first.headers["etag"]
    assert label.encode() in gzip.decompress(after.content)
    assert label.encode() not in gzip.decompress(first.content)
    folders = [p for p in dump_server.dump_dir.iterdir() if p.is_dir()]  # type: ignore[attr-defined]
    assert 1 <= len(folders) <= 2


def test_a_graph_states_its_own_licence(tmp_path: Path) -> None:
    store = Store(None)
    graph = EX + "world-test"
    store.load_data(f"""
        @prefix dcterms: <http://purl.org/dc/terms/> .
        <https://example.org/list> dcterms:license <{CC0}> ; dcterms:rights "CC0 1.0"@en .
        """, ox.RdfFormat.TURTLE, graph)
    store.load_data("<https://example.org/a> <https://example.org/b> \"c\" .",
                    ox.RdfFormat.TURTLE, EX + "other")
    folder, files = current_dump(store, tmp_path)
    by_graph = {f.graph: f for f in files}
    assert by_graph[graph].license == CC0 and by_graph[graph].license_name == "CC0 1.0"
    assert by_graph[EX + "other"].license == DATASET_LICENSE
    assert (folder / "graphs" / "world-test.ttl").is_file()
    # The same content is the same folder, not written again.
    stamp = (folder / FULL_DUMP).stat().st_mtime_ns
    again, _ = current_dump(store, tmp_path)
    assert again == folder and (folder / FULL_DUMP).stat().st_mtime_ns == stamp
