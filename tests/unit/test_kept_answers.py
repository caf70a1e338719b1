"""A named query over the whole graph (`paging: {kept: true}`) pages one answer kept per version.

- its HTML pages are the engine's pages of the same query, cut from one computation;
- a first computation longer than a visitor's query answers 202 with `Retry-After`, goes on,
  and the page then shows the rows (never 503);
- after a write, the previous version's answer is served with its version stated and is not
  kept as the new version's page; the recomputed one follows;
- at most CITYDIP_KEPT_ANSWERS answers are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from live import WRITE_TOKENS, bearer, until

from graph.core.namespaces import CD, ID
from graph.core.settings import Settings
from graph.sparql.catalogue import get_query
from server.app import create_app

QUERY = "/queries/partner-links-beyond"
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/sparql-results+json"}


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(store_path=":memory:", query_workers=1, derived_warm=False,
                    write_tokens=[f"alice:{WRITE_TOKENS['alice']}"],
                    history_path=str(tmp_path / "history.jsonl"), **values)



def pairs_in(page: str) -> list[tuple[str, str]]:
    """The (a, b) links of each row of a page's table."""
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)
    found = []
    for row in rows:
        links = re.findall(r'href="/id/([^"]+)"', row)
        found.append((links[1], links[2]))  # the hub, then a and b
    return found


def pairs_of(answer: dict) -> list[tuple[str, str]]:
    return [(b["a"]["value"].removeprefix(ID), b["b"]["value"].removeprefix(ID))
            for b in answer["results"]["bindings"]]


def kept_keys(app) -> list[str]:
    return [k for k in app.state.derived.kept if k.startswith("named-query:")]


def test_the_query_declares_its_answer_kept() -> None:
    query = get_query(Settings().queries_dir, "partner-links-beyond")
    assert query.paging == {"limit": 100, "kept": True}


def test_its_pages_are_the_engines_pages_cut_from_one_computation(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path))
    with TestClient(app) as http:
        whole = pairs_of(http.get(QUERY, headers=JSON).json())
        assert len(whole) > 6
        for offset in range(0, len(whole) + 3, 3):
            page = http.get(QUERY, params={"limit": 3, "offset": offset}, headers=HTML)
            assert page.status_code == 200
            engine = http.get(QUERY, params={"limit": 3, "offset": offset, "format": "json"})
            assert pairs_in(page.text) == pairs_of(engine.json()) == whole[offset:offset + 3]
            assert ('rel="next"' in page.text) == (offset + 3 < len(whole))
        assert len(kept_keys(app)) == 1
        assert app.state.derived.recomputations[kept_keys(app)[0]] == 1


def test_a_long_first_computation_says_so_and_is_not_a_503(tmp_path: Path) -> None:
    # Every visitor query may take a tenth of a millisecond: the answer takes longer.
    with TestClient(create_app(settings(tmp_path, query_timeout=0.0001))) as http:
        first = http.get(QUERY, headers=HTML)
        assert first.status_code == 202
        assert int(first.headers["Retry-After"]) >= 1
        assert "being computed" in first.text and 'http-equiv="refresh"' in first.text
        done = until(lambda: (p := http.get(QUERY, headers=HTML)).status_code == 200 and p)
        assert done and pairs_in(done.text)


def test_after_a_write_the_previous_answer_is_served_then_the_new_one(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, derived_interval=0.2))
    with TestClient(app) as http:
        before = http.get(QUERY, headers=HTML)
        assert before.headers["X-Data-Version"] == "0"
        passage = http.get("/sparql", headers=JSON, params={
            "query": f"SELECT ?p WHERE {{ ?p a <{CD}Passage> }} LIMIT 1"}).json()[
            "results"]["bindings"][0]["p"]["value"]
        new = [f"{ID}city/test-alpha", f"{ID}city/test-beta"]
        text = f"""PREFIX cd: <{CD}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        INSERT DATA {{ <{new[0]}> a cd:City ; rdfs:label "Aaa Alpha"@en , "甲"@zh-Hant ;
            cd:country <{ID}country/poland> ; cd:partOf <{ID}country/poland> .
          <{new[1]}> a cd:City ; rdfs:label "Aaa Beta"@en , "乙"@zh-Hant ;
            cd:country <{ID}country/poland> ; cd:partOf <{ID}country/poland> .
          <{ID}relation/test-alpha-beta> a cd:TwinningRelation ;
            rdfs:label "Alpha – Beta"@en , "甲乙"@zh-Hant ; prov:wasDerivedFrom <{passage}> ;
            cd:relationKind <{ID}relation-kind/partner-city> ;
            cd:party <{new[0]}> , <{new[1]}> . }}"""
        written = http.post("/update", content=text.encode(), headers={
            **bearer("alice"), "Content-Type": "application/sparql-update"})
        assert written.status_code == 200 and written.json()["committed"], written.text
        stale = http.get(QUERY, headers=HTML)
        if stale.headers["X-Data-Version"] == "0":  # the recomputation was not done yet
            assert stale.headers["X-Current-Data-Version"] == "1"
            assert pairs_in(stale.text) == pairs_in(before.text)
            assert "X-Page-Cache" not in stale.headers  # not kept as version 1's page
        fresh = until(lambda: (p := http.get(QUERY, headers=HTML)).headers[
            "X-Data-Version"] == "1" and p)
        assert fresh and ("city/test-alpha", "city/test-beta") in pairs_in(fresh.text)


def test_at_most_the_configured_number_of_answers_is_kept(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, kept_answers=1))
    with TestClient(app) as http:
        for hub in ("city/kaohsiung", "city/gdynia", "city/kaohsiung"):
            assert http.get(QUERY, params={"hub": hub}, headers=HTML).status_code == 200
            assert len(kept_keys(app)) == 1
