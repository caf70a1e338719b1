"""The error contract: what no route answers is 500 with an id that is also in the log, and never
a stack trace; a parser's RecursionError is the client's 400.

The app is the real one (`create_app`) served by uvicorn on a free port, with two routes added
for the test that fail the way an unforeseen bug would: nothing in the app can be made to fail
on purpose otherwise (which is the point of the fuzz suites).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from live import free_port

from graph.core.settings import Settings
from server.app import create_app


class Bug(RuntimeError):
    pass


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    app = create_app(Settings(store_path=":memory:", query_workers=1))

    @app.get("/test-only/bug")
    async def bug() -> None:
        raise Bug("secret internal detail: /srv/citydip/store, token=abc")

    @app.get("/test-only/deep")
    async def deep() -> None:
        def down(n: int) -> int:
            return down(n + 1)
        down(0)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_an_unexpected_exception_is_500_with_an_id_in_the_log(
        app_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        response = httpx.get(app_url + "/test-only/bug")
    assert response.status_code == 500
    error_id = response.headers["X-Error-Id"]
    assert len(error_id) == 12 and error_id in response.text
    assert response.headers["content-type"].startswith("text/plain")
    for leak in ("Traceback", "secret internal detail", "Bug", "token=abc", ".py"):
        assert leak not in response.text
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret internal detail" in str(logged[0].exc_info[1])  # the log has the details


def test_a_recursion_error_is_the_clients_400(app_url: str) -> None:
    response = httpx.get(app_url + "/test-only/deep")
    assert response.status_code == 400
    assert "CITYDIP_MAX_NESTING" in response.text
    assert "Traceback" not in response.text


def test_the_server_answers_after_both(app_url: str) -> None:
    assert httpx.get(app_url + "/health").status_code == 200
