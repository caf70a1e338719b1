"""Pages at scale over a live server: an actor with 5,000 relations, revalidation, search as JSON.

The data is made here: the bundled report plus a hub city twinned with 5,000 generated cities.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import LiveServer, bearer, citydip_server, data_dir_with

ID = "https://w3id.org/citydiplomacy/id/"
RELATIONS = 5000
PAGE = 100
PASSAGES = 24
HTML = {"Accept": "text/html"}


def hub_turtle(n: int) -> str:
    lines = ["@prefix cd: <https://w3id.org/citydiplomacy/ns#> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
             "@prefix id: <https://w3id.org/citydiplomacy/id/> .",
             'id:city\\/hub a cd:City ; rdfs:label "Hubville"@en , "樞紐市"@zh-Hant ;',
             "    cd:country id:country\\/poland ."]
    for i in range(n):
        lines.append(f'id:city\\/partner-{i:04d} a cd:City ; rdfs:label "Partner {i:04d}"@en ; '
                     "cd:country id:country\\/poland .")
        lines.append(f"id:relation\\/hub-{i:04d} a cd:TwinningRelation ; "
                     "cd:relationKind id:relation-kind\\/partner-city ; "
                     f'rdfs:label "Hubville – Partner {i:04d}"@en ; '
                     f"cd:party id:city\\/hub , id:city\\/partner-{i:04d} .")
    # Passages behind some relations, their lines in the reverse order of the relations, and a
    # passage that is a blank node (it cannot be named in VALUES: read in one step).
    lines.append("@prefix prov: <http://www.w3.org/ns/prov#> .")
    for i in range(PASSAGES):
        lines.append(f"id:passage\\/hub-{i:02d} a cd:Passage ; cd:quote \"Hub quote {i:02d}\"@en ; "
                     f"cd:lineStart {100 - i} ; cd:lineEnd {100 - i} .")
        lines.append(f"id:relation\\/hub-{i:04d} prov:wasDerivedFrom id:passage\\/hub-{i:02d} .")
    lines.append(f"id:relation\\/hub-{n - 1:04d} prov:wasDerivedFrom [ a cd:Passage ; "
                 'cd:quote "A quote of no name"@en ; cd:lineStart 207 ; cd:lineEnd 208 ] .')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def hub() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="citydip-hub-") as tmp:
        folder = data_dir_with(Path(tmp), "hub.ttl", hub_turtle(RELATIONS))
        with citydip_server({"CITYDIP_DATA_DIR": str(folder),
                             "CITYDIP_PAGE_SIZE": str(PAGE)}) as server:
            yield server


def section(html: str, name: str) -> str:
    match = re.search(rf'<section aria-labelledby="{name}".*?</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(0)


def next_link(part: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)"', part)
    return match.group(1).replace("&amp;", "&") if match else None


def test_a_5000_relation_actors_page_pages_its_lists(hub: LiveServer) -> None:
    response = httpx.get(f"{hub}/id/city/hub", headers=HTML, timeout=60)
    assert response.status_code == 200
    html = response.text
    assert len(response.content) < 1_000_000
    partnerships = section(html, "partnerships")
    assert partnerships.count('<div class="partnership">') == PAGE
    assert "items 1–100" in partnerships
    assert next_link(partnerships) == "/id/city/hub?partnerships=2#partnerships"
    # The derived partner-of shortcuts (5,000 out) and the relations' parties (5,000 in) too.
    for name, param in (("statements", "out"), ("referenced", "in")):
        part = section(html, name)
        assert next_link(part) == f"/id/city/hub?{param}=2#{name}"
        assert len(re.findall(r"<li>", part)) == PAGE

    second = httpx.get(f"{hub}/id/city/hub", params={"partnerships": 2}, headers=HTML,
                       timeout=60).text
    first_names = set(re.findall(r"Partner \d{4}", partnerships))
    second_names = set(re.findall(r"Partner \d{4}", section(second, "partnerships")))
    assert len(second_names) == PAGE and not first_names & second_names
    assert 'rel="prev" href="/id/city/hub#partnerships"' in second

    last = httpx.get(f"{hub}/id/city/hub", params={"partnerships": RELATIONS // PAGE},
                     headers=HTML, timeout=60).text
    assert next_link(section(last, "partnerships")) is None
    assert "items 4901–5000" in last

    bad = httpx.get(f"{hub}/id/city/hub", params={"in": "many"}, headers=HTML, timeout=60)
    assert bad.status_code == 400


@pytest.mark.parametrize(("name", "column"), [("referenced", "s"), ("statements", "o")])
def test_a_hubs_statements_page_as_the_whole_list_orders_them(hub: LiveServer, name: str,
                                                              column: str) -> None:
    """The statements in and out are read for the properties on the page only
    (server.page_lists): their pages are the whole list's rows (the query's CSV, ordered by the
    engine) cut in pages, at the ends and where one property gives way to the next."""
    first = httpx.get(f"{hub}/id/city/hub", headers=HTML, timeout=60).text
    csv_link = re.search(r'<a href="(/sparql\?[^"]+)">all rows \(CSV\)</a>',
                         section(first, name)).group(1)
    whole = list(csv.DictReader(io.StringIO(httpx.get(
        hub.url + csv_link.replace("&amp;", "&"), timeout=120).text)))
    # In: the relations' parties and the partners' shortcuts; out: the shortcuts.
    assert len(whole) >= (2 if name == "referenced" else 1) * RELATIONS
    chunks = [whole[start:start + PAGE] for start in range(0, len(whole), PAGE)]
    # The first two pages, the last, and the pages on either side of a change of property.
    rows_in_order = [row["p"] for row in whole]
    changes = {i // PAGE for i in range(1, len(whole)) if rows_in_order[i] != rows_in_order[i - 1]}
    numbers = {1, 2, len(chunks)} | {n for c in changes for n in (c, c + 1, c + 2)
                                     if 1 <= n <= len(chunks)}
    param = "in" if name == "referenced" else "out"
    for number in sorted(numbers):
        part = section(httpx.get(f"{hub}/id/city/hub", params={param: number}, headers=HTML,
                                 timeout=60).text, name)
        chunk = chunks[number - 1]
        assert len(re.findall(r"<li>", part)) == len(chunk)
        assert set(re.findall(r'<li><a href="(/id/[^"]+)"', part)) == {
            "/id/" + row[column].removeprefix(ID) for row in chunk if row[column].startswith(ID)}
        assert (next_link(part) is None) == (number == len(chunks))
    assert changes  # the list has more than one property


def test_the_whole_list_and_its_sparql_are_linked(hub: LiveServer) -> None:
    html = httpx.get(f"{hub}/id/city/hub", headers=HTML, timeout=60).text
    part = section(html, "partnerships")
    csv_link = re.search(r'<a href="(/sparql\?[^"]+)">all rows \(CSV\)</a>', part).group(1)
    query_link = re.search(r'<a href="(/query\?[^"]+)">the SPARQL', part).group(1)
    rows = httpx.get(hub.url + csv_link.replace("&amp;", "&"), timeout=120)
    assert rows.status_code == 200
    table = list(csv.DictReader(io.StringIO(rows.text)))
    assert len(table) == RELATIONS
    assert {r["partnership"] for r in table} == {f"{ID}relation/hub-{i:04d}"
                                                 for i in range(RELATIONS)}
    editor = httpx.get(hub.url + query_link.replace("&amp;", "&"), headers=HTML, timeout=60)
    assert editor.status_code == 200
    # The query page (YASGUI) opens with the list's SPARQL, given in the page's configuration.
    config = re.search(r'<script type="application/json" id="yasgui-config">(.*?)</script>',
                       editor.text, re.S).group(1)
    assert "city/hub>" in json.loads(config)["start"]


def test_a_small_actors_page_has_no_pager(hub: LiveServer) -> None:
    html = httpx.get(f"{hub}/id/city/partner-0042", headers=HTML, timeout=60).text
    assert "Hubville – Partner 0042" in html and 'rel="next"' not in html
    assert "all rows (CSV)" not in html


def test_pages_revalidate_with_etag_and_last_modified(hub: LiveServer) -> None:
    url = f"{hub}/id/city/gdynia"
    first = httpx.get(url, headers=HTML, timeout=30)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = httpx.get(url, headers={**HTML, "If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    since = httpx.get(url, headers={**HTML, "If-Modified-Since": modified}, timeout=30)
    assert since.status_code == 304
    other = httpx.get(url, headers={**HTML, "If-None-Match": 'W/"something-else"'}, timeout=30)
    assert other.status_code == 200 and other.text == first.text
    turtle = httpx.get(url, headers={"Accept": "text/turtle"}, timeout=30)
    assert turtle.headers["etag"] != etag  # another representation, another tag
    assert httpx.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag},
                     timeout=30).status_code == 200
    missing = httpx.get(f"{hub}/id/city/atlantis", headers=HTML, timeout=30)
    assert missing.status_code == 404 and "etag" not in missing.headers


def test_search_as_json_ranks_and_limits(hub: LiveServer) -> None:
    # 1,000 cities start with it (rank 1) and 1,000 relations have it after a word (rank 2).
    body = httpx.get(f"{hub}/search", params={"q": "PARTNER 0", "format": "json"},
                     timeout=30).json()
    iris = [r["iri"] for r in body["results"]]
    assert iris == [f"{ID}city/partner-{i:04d}" for i in range(50)]
    assert len(iris) == 50 and body["more"] is True  # CITYDIP_SEARCH_RESULTS (50) at most
    hub_hit = httpx.get(f"{hub}/search", params={"q": "hubville", "format": "json",
                                                 "limit": 3}, timeout=30).json()["results"]
    assert hub_hit[0]["iri"] == f"{ID}city/hub" and hub_hit[0]["partnerships"] == RELATIONS
    assert httpx.get(f"{hub}/search", params={"q": "x", "limit": "0"},
                     timeout=30).status_code == 400


def test_browse_pages_a_large_class(hub: LiveServer) -> None:
    html = httpx.get(f"{hub}/browse", params={"class": "City", "page": 3}, headers=HTML,
                     timeout=30).text
    assert int(re.search(r'id="browse-count">(\d+)<', html).group(1)) > RELATIONS
    assert html.count("<tr><td>") == PAGE
    assert 'rel="prev" href="/browse?class=City&amp;page=2"' in html


def test_writes_renew_the_tag_and_the_index(editor_server: LiveServer) -> None:
    url = f"{editor_server}/id/city/gdynia"
    etag = httpx.get(url, headers=HTML, timeout=30).headers["etag"]
    triple = (f'<{ID}city/gdynia> <http://www.w3.org/2004/02/skos/core#altLabel> '
              '"Perła Bałtyku"@pl')
    graph = "https://w3id.org/citydiplomacy/graph/edits"
    added = httpx.post(f"{editor_server}/update", timeout=60,
                       content=f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}".encode(),
                       headers={**bearer("alice"), "Content-Type": "application/sparql-update"})
    assert added.status_code == 200, added.text
    try:
        fresh = httpx.get(url, headers={**HTML, "If-None-Match": etag}, timeout=30)
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag
        assert "Perła Bałtyku" in fresh.text
        found = httpx.get(f"{editor_server}/search", params={"q": "perla baltyku",
                                                             "format": "json"}, timeout=30)
        assert [r["iri"] for r in found.json()["results"]] == [f"{ID}city/gdynia"]
    finally:
        removed = httpx.post(
            f"{editor_server}/update", timeout=60,
            content=f"DELETE DATA {{ GRAPH <{graph}> {{ {triple} }} }}".encode(),
            headers={**bearer("alice"), "Content-Type": "application/sparql-update"})
        assert removed.status_code == 200, removed.text
    gone = httpx.get(f"{editor_server}/search", params={"q": "perla", "format": "json"},
                     timeout=30)
    assert gone.json()["results"] == []


def test_a_paged_named_query_pages_its_html_and_keeps_json_whole(hub: LiveServer) -> None:
    url = f"{hub}/queries/label-search"
    # 100 cities and 100 relations have a label with "Partner 00": 200 rows.
    first = httpx.get(url, params={"text": "Partner 00"}, headers=HTML, timeout=60)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    assert first.text.count("<tr><td>") == 100
    link = next_link(first.text)
    assert link == "/queries/label-search?text=Partner+00&offset=100"
    second = httpx.get(hub.url + link, headers=HTML, timeout=60).text
    assert second.count("<tr><td>") == 100 and next_link(second) is None
    hrefs = [set(re.findall(r'href="(/id/[^"]+)"', page)) for page in (first.text, second)]
    # Ordered by resource: the 100 cities on the first page, the 100 relations on the second.
    assert {h for h in hrefs[0] if "/city/partner-" in h} == {
        f"/id/city/partner-{i:04d}" for i in range(100)} and hrefs[0].isdisjoint(hrefs[1])
    assert len({h for h in hrefs[1] if "/relation/hub-" in h}) == 100
    whole = httpx.get(url, params={"text": "Partner 00"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert len(whole.json()["results"]["bindings"]) == 200
    some = httpx.get(url, params={"text": "Partner 00", "limit": 5, "offset": 195,
                                  "format": "json"}, timeout=60)
    assert len(some.json()["results"]["bindings"]) == 5
    assert httpx.get(url, params={"text": "x", "limit": 0}, timeout=60).status_code == 422


def test_a_hubs_page_quotes_its_first_passages_in_the_order_of_the_source(hub: LiveServer) -> None:
    html = httpx.get(f"{hub}/id/city/hub", headers=HTML, timeout=60).text
    quotes = re.findall(r"Hub quote (\d\d)", html)
    # CITYDIP_PAGE_PASSAGES (20) of the 24 behind the first page of partnerships (relations
    # 0–99), by first line (77, 78, … 96)
    assert quotes == [f"{i:02d}" for i in range(PASSAGES - 1, PASSAGES - 21, -1)]
    assert "A quote of no name" not in html  # line 207, behind relation 4999: not on this page
    # The statements in are paged: the passages are those behind the statements on the page.
    assert "The first 20 of the 24 passages behind this resource and the statements on this " \
        "page" in html
    assert 'href="/queries/source-of?resource=https%3A%2F%2Fw3id.org%2Fcitydiplomacy%2Fid%2F' \
        'city%2Fhub"' in html
    # A page on which no statement has a passage says so, and links to all of them.
    later = httpx.get(f"{hub}/id/city/hub", params={"in": 2, "partnerships": 2}, headers=HTML,
                      timeout=60).text
    assert re.findall(r"Hub quote (\d\d)", later) == []
    assert "No passage behind this resource or the statements on this page" in later
    # The last page of statements in (partner of, then party: 2 × 5,000) holds relation 4999,
    # whose passage is a blank node.
    last = httpx.get(f"{hub}/id/city/hub", params={"in": 2 * RELATIONS // PAGE, "partnerships": 2},
                     headers=HTML, timeout=60).text
    assert "A quote of no name" in last and "lines 207–208" in last
    assert re.findall(r"Hub quote (\d\d)", last) == []
    assert "The passages behind this resource and the statements on this page" in last
    # A page whose only passage is a blank node.
    single = httpx.get(f"{hub}/id/relation/hub-{RELATIONS - 1:04d}", headers=HTML, timeout=60)
    assert single.status_code == 200 and "A quote of no name" in single.text
    assert "lines 207–208" in single.text
