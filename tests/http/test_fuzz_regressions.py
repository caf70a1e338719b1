"""Every hostile input found so far, replayed against a live server (tests/regressions/).

`cases.json` lists each input: the request, the file that is its body, the status (or statuses)
it must get now, and what it did before. Each must get that answer, never a 5xx, the server must
stay up, and a refused write must change nothing. The billion-laughs upload must also leave the
server's memory within 50 MB of what it was (issue 11); its time is measured by
benchmarks/hostile.py, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fuzzing import State, auth, check_alive, check_answer
from live import LiveServer

HERE = Path(__file__).resolve().parents[1] / "regressions"
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))


def request_of(case: dict) -> dict:
    """The httpx arguments that send one regression case."""
    headers: dict[str, str] = {}
    content = (HERE / case["body"]).read_bytes() if case["body"] else None
    media = case["content_type"]
    if media and media.startswith("changeset:"):
        # The payload inside a changeset document, in the format the prefix names.
        content = json.dumps({"message": case["name"], "add": content.decode("utf-8"),
                              "format": media.split(":", 1)[1]}).encode()
        media = "application/json"
    if media:
        headers["Content-Type"] = media
    if case["method"] != "GET":
        headers.update(auth())
    return {"method": case["method"], "url": case["path"], "content": content,
            "headers": headers}


@pytest.fixture(scope="module")
def client(fuzz_server: LiveServer):
    with httpx.Client(base_url=fuzz_server.url, timeout=120) as c:
        yield c


def test_every_case_has_its_file() -> None:
    for case in CASES:
        assert case["body"] is None or (HERE / case["body"]).is_file(), case["name"]
    listed = {case["body"] for case in CASES if case["body"]}
    kept = {p.name for p in HERE.iterdir() if p.name != "cases.json"}
    assert kept == listed, f"files without a case: {kept - listed}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_regression(case: dict, fuzz_server: LiveServer, client: httpx.Client) -> None:
    baseline = fuzz_server.process().memory_info().rss
    args = request_of(case)
    if case["method"] == "GET":
        response = client.request(**args)
        check_answer(response, case["name"])
    else:
        response = State(client).write(case["name"], **args)
    expected = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
    assert response.status_code in expected, response.text[:300]
    check_alive(fuzz_server, client, baseline)


def test_billion_laughs_leaves_the_memory_as_it_was(fuzz_server: LiveServer,
                                                     client: httpx.Client) -> None:
    case = next(c for c in CASES if c["body"] == "billion-laughs.rdf")
    before = fuzz_server.process().memory_info().rss
    response = client.request(**request_of(case))
    after = fuzz_server.process().memory_info().rss
    assert response.status_code == 400
    assert "DOCTYPE" in response.text
    assert abs(after - before) < 50 * 2**20, f"{(after - before) / 2**20:.0f} MB"
