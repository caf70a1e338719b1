"""The network's measures made in a process of their own answer as if made in the server's.

The network process (graph/network/process.py) keeps the network's pure-Python work (parsing
the network queries' answers, joining them, projecting, measuring) off the GIL of the process
that answers reads. These tests pin what a reader relies on: the same data and the same summary
JSON as computing in process; a child killed or failing costs the computation at hand at most,
and the next one answers; no process is left behind; and in the server, the network follows
writes with the child killed between them, staying on the previous version while it cannot.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import threading
import time
import uuid
from pathlib import Path

import psutil
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from live import WRITE_TOKENS, bearer, until

from graph.core.namespaces import CD, ID
from graph.core.settings import Settings
from graph.network.cache import View
from graph.network.data import fetch, query_texts, store_select
from graph.network.process import NetworkProcess, NetworkProcessError, prepare
from graph.network.projection import Filters
from server.app import create_app


@pytest.fixture(scope="module")
def bodies(store, settings) -> dict[str, bytes]:
    """The network queries' answers over the report's data, as the engine serializes them."""
    answers = {}
    for name, text in query_texts(settings.queries_dir).items():
        solutions = store.query(text)
        assert isinstance(solutions, ox.QuerySolutions)
        answers[name] = solutions.serialize(format=ox.QueryResultsFormat.JSON)
    return answers


@pytest.fixture
def process():
    process = NetworkProcess(timeout=120)
    yield process
    process.close()


def as_json(value) -> str:
    return json.dumps(value, sort_keys=True)


def test_the_same_data_and_summary_as_in_process(process, bodies, store, settings) -> None:
    here = fetch(store_select(store), settings.queries_dir)  # the in-thread way, from rows
    view = View(here, Filters.parse(here))
    prepared = process.version(1, bodies)
    assert pickle.loads(prepared.data) == here
    assert as_json(prepared.stats) == as_json(view.stats())
    assert as_json(prepared.analysis_stats) == as_json(view.analysis.stats())
    data, analysis_stats, stats = prepare(bodies)  # the same steps in process
    assert data == here and as_json(stats) == as_json(prepared.stats)
    assert as_json(analysis_stats) == as_json(prepared.analysis_stats)


def test_a_filtered_summary_is_made_on_the_data_the_child_holds(process, bodies) -> None:
    assert process.version(1, bodies, summary=False).stats is None
    data = pickle.loads(process.version(1, bodies, summary=False).data)
    filters = Filters.parse(data, kind=["sister-city-agreement"])
    found = process.stats(1, "partner", filters)
    assert as_json(found) == as_json(View(data, filters).analysis.stats())
    assert as_json(process.stats(1, "country", Filters.parse(data))) == as_json(
        View(data, Filters.parse(data), "country").analysis.stats())
    assert process.stats(2, "partner", filters) is None  # not the version it holds


def test_data_read_back_from_disk_is_given_to_a_new_child(process, bodies) -> None:
    """After a restart the data comes from disk, not from the child: it is handed over, and
    the summary is computed there, not in the server."""
    pickled = process.version(1, bodies, summary=False).data
    data = pickle.loads(pickled)
    fresh = NetworkProcess(timeout=120)  # as after a restart: it made no data
    try:
        assert fresh.stats(1, "partner", Filters.parse(data)) is None
        fresh.adopt(1, pickled)
        assert as_json(fresh.stats(1, "partner", Filters.parse(data))) == as_json(
            View(data, Filters.parse(data)).analysis.stats())
        assert fresh.stats(2, "partner", Filters.parse(data)) is None
    finally:
        fresh.close()


def test_a_killed_child_costs_no_later_computation(process, bodies) -> None:
    first = process.version(1, bodies)
    pid = process.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", 10)
    again = process.version(2, bodies)
    assert process.restarts == 1 and process.pid() != pid
    assert as_json(again.stats) == as_json(first.stats)
    assert process.stats(1, "partner", Filters()) is None  # the new child holds version 2 only


def test_a_child_killed_while_computing_fails_that_computation_only(process, bodies) -> None:
    process.start()
    pid = process.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # stopped: the request waits until the child is killed
    threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(NetworkProcessError):  # a small request: sent whole, then waited for
        process.stats(1, "partner", Filters())
    assert process.version(2, bodies).stats is not None


def test_a_failure_in_the_child_is_reported_and_the_child_goes_on(process, bodies) -> None:
    with pytest.raises(NetworkProcessError):
        process.version(1, {**bodies, "actors": b"not json"})
    pid = process.pid()
    assert process.version(2, bodies).stats is not None
    assert process.pid() == pid and process.restarts == 0


def test_closing_stops_the_child(process, bodies) -> None:
    process.version(1, bodies, summary=False)
    pid = process.pid()
    assert pid is not None
    child = psutil.Process(pid)
    process.close()
    assert process.pid() is None
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def write_a_city(http: TestClient) -> None:
    """A city with no partnership: a new data version whose network is the same."""
    city = f"{ID}city/test-{uuid.uuid4().hex[:8]}"
    text = f"""PREFIX cd: <{CD}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT DATA {{ <{city}> a cd:City ; rdfs:label "Sopot"@en , "索波特"@zh-Hant ;
        cd:country <{ID}country/poland> ; cd:partOf <{ID}country/poland> . }}"""
    response = http.post("/update", content=text.encode(),
                         headers={**bearer("alice"), "Content-Type": "application/sparql-update"})
    assert response.status_code == 200 and response.json()["committed"], response.text


def test_the_server_follows_writes_with_its_network_process_killed(tmp_path: Path) -> None:
    app = create_app(Settings(store_path=":memory:", query_workers=1, derived_interval=0.2,
                              derived_warm=False, write_tokens=[f"alice:{WRITE_TOKENS['alice']}"],
                              history_path=str(tmp_path / "history.jsonl")))
    with TestClient(app) as http:
        first = http.get("/network/stats")
        assert first.status_code == 200 and first.headers["X-Data-Version"] == "0"
        process = app.state.network_process
        child = psutil.Process(process.pid())

        # The child fails: the summary stays on version 0 and says so, and is retried later.
        real = process.version

        def failing(*args, **kwargs):
            raise NetworkProcessError("the network process failed (test)")

        process.version = failing
        write_a_city(http)
        time.sleep(1)
        stale = http.get("/network/stats")
        assert stale.status_code == 200 and stale.headers["X-Data-Version"] == "0"
        process.version = real

        os.kill(child.pid, signal.SIGKILL)  # and then dies: the next computation starts another
        fresh = until(lambda: (r := http.get("/network/stats")).headers["X-Data-Version"] == "1"
                      and r)
        assert fresh, "the network did not follow the write after its process was killed"
        assert fresh.json()["nodes"] == first.json()["nodes"]  # a city with no partnership
        assert process.restarts >= 1
        latest = psutil.Process(process.pid())
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    until(lambda: not latest.is_running() or latest.status() == psutil.STATUS_ZOMBIE, 10)
    assert not latest.is_running() or latest.status() == psutil.STATUS_ZOMBIE
