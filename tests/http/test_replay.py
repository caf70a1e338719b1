"""A read answered before from a kept page is sent again without going through the application,
exactly as the whole way would answer it, for as long as that page stays current.

server/replay.py; `/health`'s `kept_pages.replayed` counts the answers sent from a note. A
request with a `Cookie` takes the whole way (its answer may depend on more than its identity),
so it gives what the application itself answers, to compare with.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from live import bearer, citydip_server, write_env

from server.replay import identity

CITY = "https://w3id.org/citydiplomacy/id/city/"
GDYNIA = "/id/city/gdynia"
READS = {
    "page": (GDYNIA, "text/html"),
    "turtle": (GDYNIA, "text/turtle"),
    "partners-of": ("/queries/partners-of?" + urlencode({"actor": CITY + "gdynia"}),
                    "application/sparql-results+json"),
    "lookup": ("/sparql?" + urlencode({"query": f"SELECT ?p ?o WHERE {{ <{CITY}gdynia> ?p ?o }}"}),
               "application/sparql-results+json"),
}
WHOLE_WAY = {"Cookie": "whole=way"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client of a server that accepts alice's writes."""
    with citydip_server(write_env(tmp_path_factory.mktemp("replay") / "history.jsonl")) as live, \
            httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def replayed(client) -> int:
    return client.get("/health").json()["kept_pages"]["replayed"]


def sent(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "date"}


def write(client, turtle: str) -> None:
    change = {"message": "a test edit", "add": turtle}
    answer = client.post("/changes", content=json.dumps(change),
                         headers={"Content-Type": "application/json", **bearer("alice")})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("kind", sorted(READS))
def test_a_kept_read_asked_again_is_sent_from_its_note_as_the_application_sends_it(client, kind):
    path, accept = READS[kind]
    for _ in range(3):  # made, kept (a lookup from its second sight), then noted
        client.get(path, headers={"Accept": accept})
    before = replayed(client)
    again = client.get(path, headers={"Accept": accept})
    assert replayed(client) == before + 1
    whole = client.get(path, headers={"Accept": accept, **WHOLE_WAY})
    assert replayed(client) == before + 1
    assert again.status_code == whole.status_code == 200
    assert again.headers["X-Page-Cache"] == whole.headers["X-Page-Cache"] == "hit"
    assert again.content == whole.content
    assert sent(again) == sent(whole)


def test_a_write_that_reaches_the_page_is_on_the_next_read(client):
    for _ in range(3):
        client.get(GDYNIA)
    before = client.get(GDYNIA)
    assert "Gdingen" not in before.text
    write(client, f'<{CITY}gdynia> <http://www.w3.org/2004/02/skos/core#altLabel> "Gdingen"@de .')
    after = client.get(GDYNIA)
    assert after.headers["X-Page-Cache"] == "miss"
    assert "Gdingen" in after.text and after.headers["etag"] != before.headers["etag"]


def test_a_write_elsewhere_keeps_the_note_with_the_new_versions_validators(client):
    for _ in range(3):
        client.get(GDYNIA)
    before = client.get(GDYNIA)
    write(client, f'<{CITY}burnaby> <http://www.w3.org/2004/02/skos/core#altLabel> '
                  '"本拿比"@yue .')
    count = replayed(client)
    after = client.get(GDYNIA)
    assert replayed(client) == count + 1  # the page was not reached: still sent from its note
    whole = client.get(GDYNIA, headers=WHOLE_WAY)
    assert after.content == before.content == whole.content
    assert after.headers["etag"] != before.headers["etag"]
    assert sent(after) == sent(whole)
    revalidated = client.get(GDYNIA, headers={"If-None-Match": after.headers["etag"]})
    assert revalidated.status_code == 304


def test_conditional_cross_origin_and_head_requests_take_the_whole_way(client):
    for _ in range(3):
        client.get(GDYNIA)
    count = replayed(client)
    current = client.get(GDYNIA)
    assert replayed(client) == count + 1
    assert client.get(GDYNIA, headers={"If-None-Match": current.headers["etag"]}).status_code \
        == 304
    cross = client.get(GDYNIA, headers={"Origin": "https://example.org"})
    assert cross.headers["access-control-allow-origin"]
    assert client.head(GDYNIA).status_code == 200
    assert replayed(client) == count + 1


def _scope(headers: list[tuple[bytes, bytes]], method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": GDYNIA, "query_string": b"",
            "scheme": "http", "root_path": "", "headers": headers}


def test_a_requests_identity_is_every_header_that_can_change_an_answer():
    plain = identity(_scope([(b"host", b"a"), (b"accept", b"text/html")]))
    assert plain is not None
    assert identity(_scope([(b"accept", b"text/html"), (b"host", b"a"),
                            (b"user-agent", b"x")])) == plain
    assert identity(_scope([(b"host", b"a"), (b"accept", b"text/turtle")])) != plain
    assert identity(_scope([(b"host", b"b"), (b"accept", b"text/html")])) != plain
    assert identity(_scope([(b"host", b"a"), (b"accept", b"text/html"),
                            (b"cache-control", b"no-cache")])) != plain
    for refused in (b"if-none-match", b"origin", b"authorization", b"cookie", b"range"):
        assert identity(_scope([(b"host", b"a"), (refused, b"x")])) is None
    assert identity(_scope([(b"host", b"a")], method="HEAD")) is None


def test_with_replay_off_every_read_takes_the_whole_way(tmp_path):
    env = {**write_env(tmp_path / "history.jsonl"), "CITYDIP_REPLAY_KEPT": "false"}
    with citydip_server(env) as running, httpx.Client(base_url=running.url, timeout=60) as c:
        for _ in range(4):
            assert c.get(GDYNIA).status_code == 200
        figures = c.get("/health").json()["kept_pages"]
        assert figures["replayed"] == 0 and figures["hits"] >= 3
