"""Fuzzing the write paths with mutated RDF payloads: Turtle, TriG, N-Triples, JSON-LD, RDF/XML.

Seed documents mutated (cut, spliced, nested deep, made long) or carrying the classic attacks
(entity expansion, external entities and DTDs, remote JSON-LD contexts), sent to the Graph Store
(`/store`) and as changesets (`/changes`). Properties: no 5xx, a refused write changes nothing,
the server stays up and within its memory bound.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fuzzing import FUZZ, FUZZ_GRAPH, NASTY_TEXT, State, auth, check_alive, mutate, rdf_payloads
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


def test_mutated_payloads_to_the_graph_store(fuzz_server, client, baseline) -> None:
    state = State(client)

    @FUZZ
    @given(payload=rdf_payloads(), method=st.sampled_from(["POST", "PUT"]),
           graph=st.sampled_from([FUZZ_GRAPH, "https://w3id.org/citydiplomacy/graph/ontology",
                                  "not an iri", "urn:x:%00"]))
    def run(payload: tuple[str, str], method: str, graph: str) -> None:
        media, body = payload
        headers = {**auth(), **({"Content-Type": media} if media else {})}
        state.write(f"/store {method}", method, "/store", params={"graph": graph},
                    content=body.encode("utf-8", "surrogatepass"), headers=headers)

    run()
    check_alive(fuzz_server, client, baseline)


def test_mutated_changesets(fuzz_server, client, baseline) -> None:
    state = State(client)

    @FUZZ
    @given(payload=rdf_payloads(), data=st.data())
    def run(payload: tuple[str, str], data) -> None:
        media, body = payload
        fmt = {"application/ld+json": "json-ld", "application/rdf+xml": "application/rdf+xml",
               "application/trig": "trig", "application/n-triples": "n-triples"}.get(
            media.split(";")[0], data.draw(st.sampled_from(["turtle", None, "bogus", 7])))
        doc: dict = {"message": data.draw(st.one_of(st.just("fuzz"), NASTY_TEXT)),
                     data.draw(st.sampled_from(["add", "remove"])): body}
        if fmt is not None:
            doc["format"] = fmt
        if data.draw(st.booleans()):
            doc["graph"] = data.draw(st.sampled_from([FUZZ_GRAPH, "bad iri", 3]))
        text = json.dumps(doc)
        if data.draw(st.booleans(), label="mutate json"):
            text = mutate(text, data)
        state.write("/changes", "POST", "/changes", content=text.encode("utf-8", "surrogatepass"),
                    headers={**auth(), "Content-Type": "application/json"})

    run()
    check_alive(fuzz_server, client, baseline)
