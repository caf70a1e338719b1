"""`/network/...`: the measures as JSON, with filters, errors that name the value, and caching
per data version."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from graph.core.settings import Settings
from server.app import create_app


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(store_path=":memory:", query_workers=1, derived_interval=0.1))
    with TestClient(app) as http:
        yield http


def get(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.text
    return response


def test_stats_of_the_whole_web(client):
    stats = get(client, "/network/stats").json()
    assert (stats["nodes"], stats["edges"], stats["partnerships"]) == (58, 102, 41)
    assert stats["components"]["count"] == 7
    assert stats["betweenness"]["method"] == "exact"
    assert stats["data_version"] == 0
    assert stats["selection"] == "undated partnerships included"


def test_filters_are_the_same_as_the_cli(client):
    as_of = get(client, "/network/stats?until=2020").json()
    assert (as_of["partnerships"], as_of["nodes"]) == (5, 7)
    assert as_of["filters"]["until"] == 2020
    both = get(client, "/network/stats?kind=sister-city-agreement&kind=friendship-city-agreement"
                       "&country=japan").json()
    assert both["partnerships"] == 2  # Kumamoto City 2017, Hachioji 2006
    assert get(client, "/network/stats?class=School&topic=education").json()["nodes"] > 10
    vocab = get(client, "/network/filters").json()
    assert {"id": "poland", "iri": "https://w3id.org/citydiplomacy/id/country/poland",
            "label": "Poland", "label_zh": "波蘭", "code": "PL"} in vocab["country"]
    assert vocab["years"] == [1982, 2026]


def test_a_bad_filter_is_422_naming_it(client):
    bad = get(client, "/network/stats?kind=treaty", 422).json()
    assert bad["detail"]["param"] == "kind" and "'treaty'" in bad["detail"]["message"]
    assert get(client, "/network/top?by=fame", 422).json()["detail"]["param"] == "by"
    assert get(client, "/network/stats?since=2020&until=2000", 422).json()["detail"]["param"] \
        == "since"


def test_top_and_actor_measures(client):
    top = get(client, "/network/top?by=pagerank&limit=3").json()
    assert [a["rank"] for a in top["actors"]] == [1, 2, 3]
    assert top["actors"][0]["id"] == "city/kaohsiung"
    kaohsiung = get(client, "/network/actors/city/kaohsiung").json()
    assert kaohsiung["degree"] == 29 and kaohsiung["label_zh"] == "高雄市"


def test_path_from_gdynia_to_kumamoto_city(client):
    found = get(client, "/network/path?from=city/gdynia&to=Kumamoto%20City").json()
    assert [n["id"] for n in found["nodes"]] == ["city/gdynia", "city/kaohsiung",
                                                 "city/kumamoto-city"]
    assert found["hops"][0]["partnerships"][0]["kinds"] == ["sister-city-agreement"]


def test_an_unknown_actor_is_404_naming_it(client):
    for url, name in (("/network/path?from=city/atlantis&to=city/gdynia", "city/atlantis"),
                      ("/network/ego/city/el-dorado", "city/el-dorado"),
                      ("/network/actors/city/nowhere", "city/nowhere"),
                      ("/network/path?from=city/gdynia&to=%3Cnot%20an%20iri%3E",
                       "<not an iri>")):
        body = get(client, url, 404).json()
        assert body["actor"] == name and name in body["detail"]
    filtered = get(client, "/network/ego/city/busan?kind=sister-city-agreement", 404).json()
    assert "not in the network under the filters" in filtered["detail"]


def test_ego_communities_timeline_countries(client):
    ego = get(client, "/network/ego/city/gdynia?radius=2").json()
    assert (ego["nodes"], ego["edges"]) == (30, 44)
    assert len(ego["network"]["nodes"]) == 30
    comms = get(client, "/network/communities?members=2").json()
    assert comms["method"] == "louvain" and comms["seed"] == 42
    assert sum(c["size"] for c in comms["communities"]) == 58
    grown = get(client, "/network/timeline").json()
    assert grown["years"][-1] == {"year": 2026, "partnerships": 5, "new_actors": 13,
                                  "nodes": 30, "edges": 63, "components": 4}
    assert grown["undated"] == 19
    countries = get(client, "/network/countries").json()
    assert (countries["nodes"], countries["edges"]) == (6, 6)


@pytest.mark.parametrize("fmt,media", [("graphml", "application/graphml+xml"),
                                       ("gexf", "application/gexf+xml"),
                                       ("json", "application/json"),
                                       ("csv", "text/csv; charset=utf-8")])
def test_exports(client, fmt, media):
    response = get(client, f"/network/export?format={fmt}")
    assert response.headers["content-type"] == media
    assert "attachment" in response.headers["content-disposition"]
    if fmt in ("graphml", "gexf"):
        ET.fromstring(response.content)  # well-formed XML


def test_export_formats_read_back_as_the_same_network(client, tmp_path):
    graphml = tmp_path / "web.graphml"
    graphml.write_bytes(get(client, "/network/export?format=graphml").content)
    g = nx.read_graphml(graphml)
    assert (g.number_of_nodes(), g.number_of_edges()) == (58, 102)
    assert g.nodes["city/kaohsiung"]["label_zh"] == "高雄市"
    assert g.edges["city/kaohsiung", "city/kumamoto-city"]["weight"] == 3
    gexf = tmp_path / "web.gexf"
    gexf.write_bytes(get(client, "/network/export?format=gexf&projection=bipartite").content)
    b = nx.read_gexf(gexf)
    assert b.number_of_edges() == 98
    nodes_csv = get(client, "/network/export?format=csv&table=nodes").text.splitlines()
    assert nodes_csv[0].startswith("Id,Label") and len(nodes_csv) == 59
    edges_csv = get(client, "/network/export?format=csv").text.splitlines()
    assert edges_csv[0].startswith("Source,Target,Weight") and len(edges_csv) == 103
    assert get(client, "/network/export?format=pdf", 422).json()["detail"]["param"] == "format"


def wait_for_version(client, url: str, version: int, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = get(client, url).json()
        if body["data_version"] == version or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_results_are_cached_until_the_data_version_changes(client):
    get(client, "/network/stats")
    cache = client.app.state.network_cache
    fetches = cache.fetches
    get(client, "/network/top?by=betweenness")
    assert cache.fetches == fetches
    client.app.state.data_version = 7
    try:
        # Stale while recomputing: the previous version's answer at once, saying so ...
        stale = get(client, "/network/stats")
        assert stale.json()["data_version"] == 0
        assert stale.json()["current_data_version"] == 7
        assert stale.headers["X-Data-Version"] == "0"
        assert stale.headers["X-Current-Data-Version"] == "7"
        # ... and the new version's once read in the background.
        fresh = wait_for_version(client, "/network/stats", 7)
        assert fresh["data_version"] == 7 and "current_data_version" not in fresh
        assert cache.fetches == fetches + 1
    finally:
        client.app.state.data_version = 0
        wait_for_version(client, "/network/stats", 0)


def test_cached_answers_are_fast(client):
    urls = ["/network/stats", "/network/top?by=betweenness", "/network/communities",
            "/network/timeline", "/network/countries", "/network/ego/city/kaohsiung",
            "/network/path?from=city/gdynia&to=city/kumamoto-city", "/network/export?format=gexf"]
    for url in urls:
        get(client, url)
    for url in urls:
        started = time.perf_counter()
        get(client, url)
        assert time.perf_counter() - started < 0.2, url
