"""A query to the remote store is sent once more when the connection it went out on was closed
by the store meanwhile (a kept-alive connection after a runaway was stopped), and only once."""

from __future__ import annotations

import asyncio
import json

import httpx

from graph.backend import RemoteBackend
from graph.core.settings import Settings
from graph.store.execution import QueryJob

ANSWER = {"head": {"vars": ["n"]},
          "results": {"bindings": [{"n": {"type": "literal", "value": "7"}}]}}


def backend_over(failures: int) -> tuple[RemoteBackend, list[int]]:
    """A remote backend whose store drops the first `failures` connections unanswered."""
    sent: list[int] = []

    def store(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        if len(sent) <= failures:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request)
        return httpx.Response(200, json=ANSWER,
                              headers={"content-type": "application/sparql-results+json"})

    backend = RemoteBackend.__new__(RemoteBackend)  # no store to reach at construction
    backend.settings = Settings(remote_query_url="http://store.invalid/sparql")
    backend._client = httpx.AsyncClient(transport=httpx.MockTransport(store))
    return backend, sent


def run(backend: RemoteBackend):
    job = QueryJob("SELECT ?n WHERE { BIND(7 AS ?n) }", {}, format="json", max_rows=10)

    async def go():
        try:
            return await backend._execute(job, "worker")
        finally:
            await backend._client.aclose()

    return asyncio.run(go())


def test_a_query_whose_connection_was_closed_is_sent_again_once() -> None:
    backend, sent = backend_over(failures=1)
    outcome = run(backend)
    assert outcome.status == 200, outcome.message
    assert json.loads(outcome.body)["results"]["bindings"][0]["n"]["value"] == "7"
    assert len(sent) == 2


def test_a_store_that_keeps_dropping_the_query_is_502_after_two_tries() -> None:
    backend, sent = backend_over(failures=5)
    outcome = run(backend)
    assert outcome.status == 502
    assert "Server disconnected" in outcome.message
    assert len(sent) == 2
