"""The SPARQL endpoint resolves a query's relative IRIs against its own URL, which it keeps per
scheme, host and root path: each host still gets its own, and the repeats of a quick query
(answered on the event loop, graph.store.lanes, or kept, server/kept_queries.py) give the same
answer as the first run."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from fastapi.testclient import TestClient

from graph.core.settings import Settings
from server.app import create_app

RELATIVE = "SELECT ?s WHERE { BIND(<s> AS ?s) }"


def subject(http: TestClient, host: str, root_path: str = "", fresh: bool = False) -> str:
    response = http.get(f"{root_path}/sparql", params={"query": RELATIVE},
                        headers={"Host": host, "Accept": "application/sparql-results+json",
                                 **({"Cache-Control": "no-cache"} if fresh else {})})
    assert response.status_code == 200, response.text
    (row,) = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    return row["s"].value


def test_relative_iris_resolve_against_the_host_asked(tmp_path: Path) -> None:
    settings = Settings(store_path=":memory:", query_workers=1,
                        history_path=str(tmp_path / "history.jsonl"))
    with TestClient(create_app(settings)) as http:
        for _ in range(4):  # measured on a worker, in the lane's thread, then inline
            assert subject(http, "one.example", fresh=True) == "http://one.example/s"
            assert subject(http, "two.example:8080", fresh=True) == "http://two.example:8080/s"
        assert http.app.state.backend.lane.inline > 0
        for _ in range(3):  # seen before: kept, once per host
            assert subject(http, "one.example") == "http://one.example/s"
            assert subject(http, "two.example:8080") == "http://two.example:8080/s"
        assert http.app.state.page_cache.hits >= 2
    with TestClient(create_app(settings), root_path="/mounted") as http:
        assert subject(http, "one.example") == "http://one.example/mounted/s"
