"""HTTP for the endpoint benchmark: one persistent connection per client, and the check that an
answer is good SPARQL JSON (an HTTP 200 with a broken body counts as an error).

http.client rather than httpx: the least client-side work per request, so that the figures are
the servers' more than the client's.
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlencode

JSON_RESULTS = "application/sparql-results+json"


class RequestFailed(Exception):
    pass


class Client:
    """One persistent HTTP/1.1 connection; a request returns (seconds, status, headers, body)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path: str, accept: str = JSON_RESULTS) -> tuple[float, int, dict, bytes]:
        for attempt in (1, 2):
            conn = self._connect()
            started = time.perf_counter()
            try:
                # no-cache: ours answers from the engine, as the others do, not from the
                # answers it keeps for repeated queries (server/kept_queries.py)
                conn.request("GET", path, headers={"Accept": accept, "Cache-Control": "no-cache"})
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the server closed: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise RequestFailed(f"connection failed: {exc}") from None
                continue
            except TimeoutError:
                self.close()
                raise RequestFailed(
                    f"no answer within {self.timeout:g} s (client timeout)"
                ) from None
            except OSError as exc:
                self.close()
                raise RequestFailed(f"connection failed: {exc}") from None
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return elapsed, response.status, {k.lower(): v for k, v in response.getheaders()}, body
        raise AssertionError("unreachable")


def query_path(endpoint: str, sparql: str) -> str:
    return f"{endpoint}?{urlencode({'query': sparql})}"


def check_answer(status: int, headers: dict, body: bytes) -> tuple[int, bool]:
    """(rows, truncated) of a SPARQL JSON answer; raise RequestFailed if it is not a good one."""
    if status != 200:
        text = body[:300].decode("utf-8", "replace").strip().replace("\n", " ")
        raise RequestFailed(f"HTTP {status}: {text}")
    try:
        data = json.loads(body)
    except ValueError:
        end = body[-120:].decode("utf-8", "replace").replace("\n", " ")
        raise RequestFailed(
            f"HTTP 200 but the body is not valid JSON ({len(body)} bytes, ends with {end!r})"
        ) from None
    if "boolean" in data:
        return 1, False
    try:
        rows = len(data["results"]["bindings"])
    except (KeyError, TypeError):
        raise RequestFailed("HTTP 200 but not SPARQL JSON results") from None
    truncated = headers.get("x-result-truncated", "").lower() == "true"
    return rows, truncated
