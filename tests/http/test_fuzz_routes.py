"""Fuzzing every route: random paths, query strings and headers (Accept, Content-Type,
Authorization), with every method the route has. Properties: no 5xx, the server stays up and
within its memory bound, and what answers a write refused changes nothing.
"""

from __future__ import annotations

import httpx
import pytest
from fuzzing import (
    FUZZ,
    NASTY_TEXT,
    QUERY_KEYS,
    QUERY_VALUES,
    SEGMENTS,
    State,
    check_alive,
    check_answer,
    fill_path,
    headers,
    mutate,
)
from hypothesis import given
from hypothesis import strategies as st
from live import LiveServer

EXTRA_ROUTES = [("/", "GET"), ("/query", "GET"), ("/search", "GET"), ("/browse", "GET"),
                ("/docs", "GET"), ("/openapi.json", "GET"), ("/static/{name}", "GET"),
                ("/update", "GET"), ("/sparql", "PUT"), ("/assets/{name}", "GET"),
                ("/{anything}/{more}", "GET"), ("/id/{kind}/{slug}", "HEAD")]
WRITES = {"POST", "PUT", "DELETE", "PATCH"}


@pytest.fixture(scope="module")
def client(fuzz_server: LiveServer):
    with httpx.Client(base_url=fuzz_server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def routes(client: httpx.Client) -> list[tuple[str, str]]:
    """Every (path template, method) the server declares, and those it keeps out of its schema."""
    spec = client.get("/openapi.json").json()
    found = [(path, method.upper()) for path, item in spec["paths"].items() for method in item]
    assert len(found) > 20, "the route list looks incomplete"
    return sorted(set(found) | set(EXTRA_ROUTES))


def test_random_requests_on_every_route(fuzz_server, client, routes) -> None:
    baseline = fuzz_server.process().memory_info().rss
    state = State(client)

    @FUZZ
    @given(route=st.sampled_from(routes), segments=st.lists(SEGMENTS, min_size=3, max_size=3),
           params=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=4),
           head=headers(), body=st.one_of(st.just(b""), NASTY_TEXT.map(str.encode)),
           data=st.data())
    def run(route, segments, params, head, body, data) -> None:
        template, method = route
        path = fill_path(template, segments)
        if data.draw(st.booleans(), label="mutate path"):
            path = "/" + mutate(path.lstrip("/"), data).replace("#", "%23").replace("?", "%3F")
            path = path.replace("\n", "%0A").replace("\r", "%0D").replace(" ", "%20")
        try:
            url = httpx.URL(path)
            client.build_request(method, path, params=params)  # joined with the server's base
        except (httpx.InvalidURL, UnicodeError):
            return  # not a URL a client can send
        if url.is_absolute_url or not url.path.startswith("/"):
            return
        kwargs = {"params": params, "headers": head, "content": body or None}
        label = f"{template} {method}"
        if method in WRITES:
            state.write(label, method, path, **kwargs)
        else:
            check_answer(client.request(method, path, **kwargs), label)

    run()
    check_alive(fuzz_server, client, baseline)
