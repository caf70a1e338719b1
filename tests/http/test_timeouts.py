"""A runaway query is stopped at the timeout: 503 for its client, answers for others meanwhile,
and no CPU burning afterwards (the worker process running it is killed and replaced)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import psutil
import pyoxigraph as ox
import pytest
from live import (
    RUNAWAY,
    LiveServer,
    citydip_server,
    oxigraph_server,
    remote_env,
    virtuoso_server,
)
from processes import cpu_percent

TIMEOUT = 2
WORKERS = 2
PROCESSES = WORKERS + 1
"""The query workers, and the one that runs the derived views' queries."""
CHEAP = ("SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/citydiplomacy/id/city/gdynia> ?p ?o }")
MARGIN = 10
"""Seconds on top of a timeout within which the 503 must arrive (generous: machines are slow)."""


@pytest.fixture(scope="module", params=["memory", "disk"])
def slow_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An embedded server with a 2 s timeout, its store in memory (forked workers) or on disk
    (spawned workers opening the store read-only)."""
    env = {"CITYDIP_QUERY_TIMEOUT": str(TIMEOUT), "CITYDIP_QUERY_WORKERS": str(WORKERS)}
    if request.param == "disk":
        env["CITYDIP_STORE_PATH"] = str(tmp_path_factory.mktemp("store"))
    with citydip_server(env) as server:
        yield server


class Call(threading.Thread):
    """A request in a thread, recording its response and when it came back."""

    def __init__(self, url: str, query: str) -> None:
        super().__init__(daemon=True)
        self.url, self.query = url, query
        self.response: httpx.Response | None = None
        self.started = self.finished = 0.0

    def run(self) -> None:
        self.started = time.monotonic()
        self.response = httpx.post(self.url + "/sparql", data={"query": self.query},
                                   timeout=120)
        self.finished = time.monotonic()

    @property
    def elapsed(self) -> float:
        return self.finished - self.started


def settles(processes: Callable[[], list[psutil.Process]], limit: float = 20.0,
            within: float = 15.0) -> float:
    """The first 1 s CPU sample under `limit` %, sampling for at most `within` seconds.

    A query still burning would keep a core busy (100 %) in every sample; a replacement worker
    starting up (importing, opening the store) uses some CPU once, hence several samples.
    """
    deadline = time.monotonic() + within
    samples = []
    while time.monotonic() < deadline:
        samples.append(cpu_percent(processes()))
        if samples[-1] < limit:
            return samples[-1]
    raise AssertionError(f"CPU still busy after {within} s: samples {samples}")


def tree(server: LiveServer) -> list[psutil.Process]:
    process = server.process()
    return [process, *process.children(recursive=True)]


def count(http: httpx.Client) -> int:
    response = http.post("/sparql", data={"query": CHEAP})
    assert response.status_code == 200, response.text
    solutions = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    return int(next(iter(solutions))["n"].value)


def test_runaway_query_is_stopped(slow_server: LiveServer) -> None:
    before = {w.pid for w in slow_server.workers()}
    assert len(before) == PROCESSES
    with httpx.Client(base_url=slow_server.url, timeout=30) as http:
        expected = count(http)
        runaway = Call(slow_server.url, RUNAWAY)
        runaway.start()
        time.sleep(0.3)
        # Meanwhile, the server answers other requests, and fast.
        started = time.monotonic()
        assert http.get("/health").json()["status"] == "ok"
        assert count(http) == expected
        assert http.get("/queries").status_code == 200
        answered = time.monotonic()
        assert answered - started < 5
        assert runaway.is_alive(), "the runaway query ended before the others were answered"
        runaway.join(TIMEOUT + MARGIN)
        assert not runaway.is_alive(), "no answer to the runaway query"
        assert runaway.finished > answered
        response = runaway.response
        assert response is not None and response.status_code == 503, response
        assert f"longer than {TIMEOUT} s" in response.text and "stopped" in response.text
        assert "Traceback" not in response.text
        assert TIMEOUT - 0.5 <= runaway.elapsed <= TIMEOUT + MARGIN
        # Afterwards: no CPU burning, the pool back to its size with a new worker.
        settles(lambda: tree(slow_server))
        after = {w.pid for w in slow_server.workers()}
        assert len(after) == PROCESSES and after != before
        assert count(http) == expected


def test_every_worker_runs_away(slow_server: LiveServer) -> None:
    calls = [Call(slow_server.url, RUNAWAY) for _ in range(WORKERS)]
    for call in calls:
        call.start()
    for call in calls:
        call.join(TIMEOUT + MARGIN)
        assert call.response is not None and call.response.status_code == 503
    settles(lambda: tree(slow_server))
    assert len(slow_server.workers()) == PROCESSES
    with httpx.Client(base_url=slow_server.url, timeout=30) as http:
        assert count(http) > 0
        assert http.get("/health").status_code == 200


# --- the remote backend: oxigraph serve --timeout-s 1 ---------------------------------------------


@pytest.fixture(scope="module")
def remote_oxigraph() -> Iterator[LiveServer]:
    with oxigraph_server(timeout_s=1) as server:
        yield server


@pytest.fixture(scope="module")
def remote_slow(remote_oxigraph: LiveServer) -> Iterator[LiveServer]:
    """Our server in front of it, with a longer timeout of its own: oxigraph stops the query."""
    with citydip_server(remote_env(remote_oxigraph, CITYDIP_QUERY_TIMEOUT="30")) as server:
        yield server


def test_oxigraph_cuts_a_timed_out_answer_short(remote_slow: LiveServer,
                                                remote_oxigraph: LiveServer) -> None:
    """The premise: `oxigraph serve --timeout-s` answers 200 and a body that breaks off."""
    response = httpx.post(remote_oxigraph.url + "/query", data={"query": RUNAWAY},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200
    with pytest.raises(SyntaxError):
        list(ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON))


def test_remote_runaway_is_503_never_200(remote_slow: LiveServer,
                                        remote_oxigraph: LiveServer) -> None:
    with httpx.Client(base_url=remote_slow.url, timeout=30) as http:
        expected = count(http)
        runaway = Call(remote_slow.url, RUNAWAY)
        runaway.start()
        time.sleep(0.2)
        started = time.monotonic()
        assert http.get("/health").json()["status"] == "ok"
        assert count(http) == expected
        assert time.monotonic() - started < 5
        runaway.join(30 + MARGIN)
        response = runaway.response
        assert response is not None and response.status_code == 503, response
        assert "cut" in response.text and "Traceback" not in response.text
        assert runaway.elapsed <= 30 + MARGIN
        settles(lambda: [remote_oxigraph.process(), *tree(remote_slow)])
        assert count(http) == expected


# --- the remote backend: Virtuoso with MaxQueryExecutionTime = 1 --------------------------------


@pytest.fixture(scope="module")
def virtuoso_1s() -> Iterator[LiveServer]:
    with virtuoso_server(max_seconds=1) as server:
        yield server


@pytest.fixture(scope="module")
def virtuoso_slow(virtuoso_1s: LiveServer) -> Iterator[LiveServer]:
    """Our server in front of it, with a longer timeout of its own: Virtuoso stops the query."""
    with citydip_server(remote_env(virtuoso_1s, CITYDIP_QUERY_TIMEOUT="30")) as server:
        yield server


RUNAWAY_ROWS = ("SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
                "FILTER (STRLEN(STR(?c)) + STRLEN(STR(?f)) + STRLEN(STR(?i)) < 0) }")
"""A runaway without an aggregate."""


def test_virtuoso_stops_a_runaway_at_its_time_limit(virtuoso_slow: LiveServer,
                                                    virtuoso_1s: LiveServer) -> None:
    """The premise: MaxQueryExecutionTime ends a runaway with HTTP 500 and SQL state S1T00
    (answers cut short with 200 and X-SQL-State are covered in test_remote.py)."""
    for query in (RUNAWAY, RUNAWAY_ROWS):
        response = httpx.post(virtuoso_1s.query_url, data={"query": query}, timeout=60,
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 500 and "S1T00" in response.text, response.text


def test_virtuoso_runaway_is_503_never_500(virtuoso_slow: LiveServer,
                                                     virtuoso_1s: LiveServer) -> None:
    with httpx.Client(base_url=virtuoso_slow.url, timeout=30) as http:
        expected = count(http)
        runaways = [Call(virtuoso_slow.url, RUNAWAY_ROWS), Call(virtuoso_slow.url, RUNAWAY)]
        for runaway in runaways:
            runaway.start()
        time.sleep(0.2)
        assert http.get("/health").json()["status"] == "ok"
        assert count(http) == expected
        for runaway in runaways:
            runaway.join(30 + MARGIN)
            response = runaway.response
            assert response is not None and response.status_code == 503, response
            assert "time limit" in response.text and "Traceback" not in response.text
            assert "x-sql-state" not in response.headers
            assert runaway.elapsed <= 1 + MARGIN
        assert count(http) == expected
