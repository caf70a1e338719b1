"""Fuzzing the SPARQL endpoints with queries and updates generated from the grammar.

Grammar-aware generation (every query form, nesting, escapes, unicode, long literals, update
operations including LOAD and SERVICE), then mutated: cut, spliced with hostile characters,
wrapped in deep nesting. Properties (tests/support/fuzzing.py): no 5xx, the server stays up and
within
its memory bound, and a refused update changes nothing.
"""

from __future__ import annotations

import httpx
import pytest
from fuzzing import FUZZ, State, auth, check_alive, check_answer, mutate, queries, updates
from hypothesis import given
from hypothesis import strategies as st
from live import LiveServer


@pytest.fixture(scope="module")
def client(fuzz_server: LiveServer):
    with httpx.Client(base_url=fuzz_server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def baseline(fuzz_server: LiveServer) -> int:
    return fuzz_server.process().memory_info().rss


def test_generated_queries_never_answer_5xx(fuzz_server, client, baseline) -> None:
    @FUZZ
    @given(query=queries(), data=st.data(), how=st.sampled_from(["get", "form", "direct"]))
    def run(query: str, data, how: str) -> None:
        if data.draw(st.booleans(), label="mutate"):
            query = mutate(query, data)
        accept = data.draw(st.sampled_from([None, "text/csv", "application/sparql-results+xml",
                                            "text/turtle", "application/ld+json", "*/*"]))
        headers = {"Accept": accept} if accept else {}
        if how == "get" and len(query) > 6000:
            how = "form"  # a URL that long is refused by the client library before it is sent
        if how == "get":
            response = client.get("/sparql", params={"query": query}, headers=headers)
        elif how == "form":
            response = client.post("/sparql", data={"query": query}, headers=headers)
        else:
            response = client.post("/sparql", content=query.encode("utf-8", "surrogatepass"),
                                   headers={**headers, "Content-Type": "application/sparql-query"})
        check_answer(response, f"/sparql {how}")

    run()
    check_alive(fuzz_server, client, baseline)


def test_generated_updates_never_answer_5xx_and_refusals_change_nothing(
        fuzz_server, client, baseline) -> None:
    state = State(client)

    @FUZZ
    @given(update=updates(), data=st.data())
    def run(update: str, data) -> None:
        if data.draw(st.booleans(), label="mutate"):
            update = mutate(update, data)
        body = update.encode("utf-8", "surrogatepass")
        if data.draw(st.booleans(), label="form"):
            state.write("/update form", "POST", "/update", data={"update": update,
                                                                 "message": "fuzz"},
                        headers=auth())
        else:
            state.write("/update direct", "POST", "/update", content=body,
                        headers={**auth(), "Content-Type": "application/sparql-update"})

    run()
    check_alive(fuzz_server, client, baseline)
