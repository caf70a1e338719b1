"""Entity pages and pages of a named query's rows are kept until a write changes them.

Asked again, a page costs a look-up; a write drops the entity pages it can change (its
resources', their neighbours' and their partnerships' parties') and every page that depends on
the whole graph; the others are kept, answered with the current version's validators.

server/page_cache.py; `X-Page-Cache` says whether an answer was kept (`hit`) or made (`miss`).
"""

from __future__ import annotations

import json

import httpx
import pytest
from live import WRITE_TOKENS, citydip_server, write_env

GDYNIA = "/id/city/gdynia"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = write_env(tmp_path_factory.mktemp("history") / "history.jsonl")
    with citydip_server(env) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/ld+json"])
def test_a_page_asked_again_is_the_kept_one_byte_for_byte(client, accept):
    first = client.get(GDYNIA, headers={"Accept": accept})
    again = client.get(GDYNIA, headers={"Accept": accept})
    assert first.status_code == again.status_code == 200
    assert first.headers["X-Page-Cache"] == "miss" and again.headers["X-Page-Cache"] == "hit"
    assert again.content == first.content
    for name in ("content-type", "etag", "last-modified", "vary", "link"):
        assert again.headers[name] == first.headers[name]


def test_page_parameters_and_representations_are_kept_apart(client):
    html = client.get(GDYNIA, headers={"Accept": "text/html"})
    turtle = client.get(GDYNIA, headers={"Accept": "text/turtle"})
    second = client.get(GDYNIA + "?out=2", headers={"Accept": "text/html"})
    assert html.content != turtle.content and html.content != second.content
    assert "text/turtle" in turtle.headers["content-type"]


def test_a_write_drops_the_kept_pages(client):
    client.get(GDYNIA)
    before = client.get(GDYNIA)
    assert before.headers["X-Page-Cache"] == "hit"
    assert "Gdingen" not in before.text
    change = {"message": "German name", "add": (
        '<https://w3id.org/citydiplomacy/id/city/gdynia> '
        '<http://www.w3.org/2004/02/skos/core#altLabel> "Gdingen"@de .')}
    written = client.post("/changes", content=json.dumps(change),
                          headers={"Content-Type": "application/json",
                                   "Authorization": f"Bearer {WRITE_TOKENS['alice']}"})
    assert written.status_code == 200, written.text
    after = client.get(GDYNIA)
    assert after.headers["X-Page-Cache"] == "miss"
    assert "Gdingen" in after.text and after.headers["etag"] != before.headers["etag"]
    assert client.get(GDYNIA).headers["X-Page-Cache"] == "hit"


def test_a_missing_resource_is_not_kept(client):
    for _ in range(2):
        missing = client.get("/id/city/nowhere-at-all")
        assert missing.status_code == 404
        assert "X-Page-Cache" not in missing.headers


def test_a_page_of_a_named_querys_rows_is_kept_too(client):
    path = "/queries/partner-links-beyond?limit=5"
    first = client.get(path, headers={"Accept": "text/html"})
    again = client.get(path, headers={"Accept": "text/html"})
    assert first.status_code == again.status_code == 200
    assert (first.headers["X-Page-Cache"], again.headers["X-Page-Cache"]) == ("miss", "hit")
    assert again.content == first.content
    rows = client.get(path.replace("?", "?format=json&"))
    assert "X-Page-Cache" not in rows.headers  # the whole answer is the engine's, not a page


def write(client, change: dict) -> None:
    written = client.post("/changes", content=json.dumps(change),
                          headers={"Content-Type": "application/json",
                                   "Authorization": f"Bearer {WRITE_TOKENS['alice']}"})
    assert written.status_code == 200, written.text
    assert written.json()["committed"], written.text


def kept(client, path: str, **headers: str) -> httpx.Response:
    client.get(path, headers=headers)
    again = client.get(path, headers=headers)
    assert again.status_code == 200 and again.headers["X-Page-Cache"] == "hit", path
    return again


def test_a_write_drops_the_pages_it_changes_and_keeps_the_others(client):
    """Gdynia's English name changes: its page, the port in it and its sister city Kaohsiung
    (a party to their agreement) show the new name; Burnaby is unrelated and stays kept."""
    port, partner, unrelated = "/id/port/gdynia", "/id/city/kaohsiung", "/id/city/burnaby"
    query = "/queries/label-search?text=gdy&limit=5"  # a page of a named query's rows
    before = {path: kept(client, path) for path in (GDYNIA, port, partner, unrelated)}
    turtle = kept(client, unrelated, Accept="text/turtle")
    kept(client, query, Accept="text/html")
    assert "Gdynia Harbour" not in before[port].text
    gdynia = "<https://w3id.org/citydiplomacy/id/city/gdynia>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    write(client, {"message": "English name",
                   "remove": f'{gdynia} {label} "Gdynia"@en .',
                   "add": f'{gdynia} {label} "Gdynia Harbour"@en .'})
    for path in (GDYNIA, port, partner):
        after = client.get(path)
        assert after.headers["X-Page-Cache"] == "miss", path
        assert "Gdynia Harbour" in after.text, path
    still = client.get(unrelated)
    assert still.headers["X-Page-Cache"] == "hit" and still.content == before[unrelated].content
    # a kept page says what the current version's pages say
    assert still.headers["etag"] == client.get(GDYNIA).headers["etag"]
    assert still.headers["etag"] != before[unrelated].headers["etag"]
    again = client.get(unrelated, headers={"Accept": "text/turtle"})
    assert again.headers["X-Page-Cache"] == "hit" and again.content == turtle.content
    rows = client.get(query, headers={"Accept": "text/html"})
    assert rows.status_code == 200 and rows.headers["X-Page-Cache"] == "miss"
    assert "X-Page-Cache" not in client.get("/").headers  # the front page is never kept


def test_a_client_revalidating_a_page_a_write_changed_gets_the_new_page(client):
    port = "/id/port/gdynia"
    old = kept(client, port)
    gdynia = "<https://w3id.org/citydiplomacy/id/city/gdynia>"
    note = "<http://www.w3.org/2004/02/skos/core#altLabel>"
    assert client.get(port, headers={"If-None-Match": old.headers["etag"]}).status_code == 304
    write(client, {"message": "Kashubian name", "add": f'{gdynia} {note} "Gdiniô"@csb .'})
    write(client, {"message": "English name back", "remove": (
        f'{gdynia} <http://www.w3.org/2000/01/rdf-schema#label> "Gdynia Harbour"@en .'),
        "add": f'{gdynia} <http://www.w3.org/2000/01/rdf-schema#label> "Gdynia"@en .'})
    for validator in ({"If-None-Match": old.headers["etag"]},
                      {"If-Modified-Since": old.headers["last-modified"]}):
        fresh = client.get(port, headers=validator)
        assert fresh.status_code == 200, validator
        assert "Gdynia Harbour" not in fresh.text and fresh.content != old.content


def partner_labels(answer: httpx.Response) -> set[str]:
    return {row["partnerLabel"]["value"] for row in answer.json()["results"]["bindings"]
            if "partnerLabel" in row}


def test_a_named_query_about_one_resource_is_kept_like_that_resources_page(client):
    """`partners-of` says `about: actor`: its answers are kept until a write changes the actor's
    page (here, the name of a partner), whatever other resources are written meanwhile."""
    path = "/queries/partners-of?actor=https%3A%2F%2Fw3id.org%2Fcitydiplomacy%2Fid%2Fcity%2Fgdynia"
    json_accept = "application/sparql-results+json"
    before = kept(client, path, Accept=json_accept)
    csv = kept(client, path + "&format=csv")
    assert "Kaohsiung" in partner_labels(before) and b"Kaohsiung" in csv.content
    burnaby, kaohsiung = ("<https://w3id.org/citydiplomacy/id/city/burnaby>",
                          "<https://w3id.org/citydiplomacy/id/city/kaohsiung>")
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    write(client, {"message": "Burnaby in Cantonese",
                   "add": f'{burnaby} <http://www.w3.org/2004/02/skos/core#altLabel> '
                          f'"本拿比"@yue .'})
    still = client.get(path, headers={"Accept": json_accept})
    assert still.headers["X-Page-Cache"] == "hit" and still.content == before.content
    write(client, {"message": "Kaohsiung's English name", "remove": f'{kaohsiung} {label} '
                   f'"Kaohsiung"@en .', "add": f'{kaohsiung} {label} "Kaohsiung Port City"@en .'})
    try:
        after = client.get(path, headers={"Accept": json_accept})
        assert after.headers["X-Page-Cache"] == "miss"
        assert "Kaohsiung Port City" in partner_labels(after)
        assert b"Kaohsiung Port City" in client.get(path + "&format=csv").content
        assert client.get(path, headers={"Accept": json_accept}).headers["X-Page-Cache"] == "hit"
    finally:
        write(client, {"message": "Kaohsiung's English name back",
                       "remove": f'{kaohsiung} {label} "Kaohsiung Port City"@en .',
                       "add": f'{kaohsiung} {label} "Kaohsiung"@en .'})


ALT_LABEL = "<http://www.w3.org/2004/02/skos/core#altLabel>"
GDYNIA_IRI = "<https://w3id.org/citydiplomacy/id/city/gdynia>"
BURNABY_IRI = "<https://w3id.org/citydiplomacy/id/city/burnaby>"


def sparql(client, query: str, **headers: str) -> httpx.Response:
    answer = client.get("/sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json", **headers})
    assert answer.status_code == 200, answer.text
    return answer


def values(answer: httpx.Response) -> set[str]:
    return {row["o"]["value"] for row in answer.json()["results"]["bindings"]}


def test_an_endpoint_answer_asked_again_is_kept_until_a_write_touches_what_it_reads(client):
    """server/kept_queries.py: a GET query seen before is kept; a write that adds or removes
    no quad its patterns may match (here: about another city) leaves it kept."""
    query = f"SELECT ?o WHERE {{ {GDYNIA_IRI} {ALT_LABEL} ?o }}"
    assert "X-Page-Cache" not in sparql(client, query).headers  # first sight: only answered
    assert sparql(client, query).headers["X-Page-Cache"] == "miss"
    before = sparql(client, query)
    assert before.headers["X-Page-Cache"] == "hit" and "Gdańskie Gdynia" not in values(before)
    write(client, {"message": "Burnaby in Korean",
                   "add": f'{BURNABY_IRI} {ALT_LABEL} "버나비"@ko .'})
    still = sparql(client, query)
    assert still.headers["X-Page-Cache"] == "hit" and still.content == before.content
    write(client, {"message": "another name of Gdynia",
                   "add": f'{GDYNIA_IRI} {ALT_LABEL} "Gdańskie Gdynia"@pl .'})
    try:
        after = sparql(client, query)
        assert after.headers["X-Page-Cache"] == "miss"
        assert values(after) == values(before) | {"Gdańskie Gdynia"}
        assert sparql(client, query).headers["X-Page-Cache"] == "hit"
        # Asked for an answer computed now, or by POST: not from the kept ones.
        assert "X-Page-Cache" not in sparql(client, query, **{"Cache-Control": "no-cache"}).headers
        posted = client.post("/sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"})
        assert posted.status_code == 200 and "X-Page-Cache" not in posted.headers
    finally:
        write(client, {"message": "that name again",
                       "remove": f'{GDYNIA_IRI} {ALT_LABEL} "Gdańskie Gdynia"@pl .'})
    assert "Gdańskie Gdynia" not in values(sparql(client, query))


def test_an_answer_that_changes_by_itself_is_never_kept(client):
    query = "SELECT (NOW() AS ?o) (STRUUID() AS ?id) WHERE {}"
    for _ in range(3):
        assert "X-Page-Cache" not in sparql(client, query).headers
    ids = {sparql(client, query).json()["results"]["bindings"][0]["id"]["value"]
           for _ in range(2)}
    assert len(ids) == 2
