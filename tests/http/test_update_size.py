"""A SPARQL Update longer than CITYDIP_MAX_UPDATE_BYTES is refused before it is parsed.

The update parser is pure Python (about 7.5 µs of CPU a byte, with the write lock held), so the
text is bounded on its own, well below the body limit of /store and /changes.
"""

from __future__ import annotations

import httpx
import pytest
from live import WRITE_TOKENS, citydip_server, write_env

LIMIT = 4096
TOKEN = WRITE_TOKENS["alice"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = write_env(tmp_path_factory.mktemp("history") / "history.jsonl",
                    CITYDIP_MAX_UPDATE_BYTES=str(LIMIT))
    with citydip_server(env) as running:
        yield running


def insert(n: int) -> str:
    rows = "\n".join(f'<https://w3id.org/citydiplomacy/id/city/gdynia> '
                     f'<http://www.w3.org/2004/02/skos/core#altLabel> "Gdingen {i}"@de .'
                     for i in range(n))
    return f"INSERT DATA {{ GRAPH <https://w3id.org/citydiplomacy/graph/edits> {{\n{rows}\n}} }}"


def post(server, text: str) -> httpx.Response:
    return httpx.post(f"{server.url}/update", content=text.encode(), timeout=60,
                      headers={"Content-Type": "application/sparql-update",
                               "Authorization": f"Bearer {TOKEN}"})


def test_an_update_over_the_limit_gets_413_naming_the_setting_and_changes_nothing(server):
    before = httpx.get(f"{server.url}/changes").headers["X-Total-Count"]
    text = insert(60)
    assert len(text.encode()) > LIMIT
    response = post(server, text)
    assert response.status_code == 413
    assert "CITYDIP_MAX_UPDATE_BYTES" in response.text and str(LIMIT) in response.text
    assert httpx.get(f"{server.url}/changes").headers["X-Total-Count"] == before


def test_an_update_under_the_limit_is_applied(server):
    text = insert(3)
    assert len(text.encode()) < LIMIT
    response = post(server, text)
    assert response.status_code == 200, response.text
    assert response.json()["committed"]
