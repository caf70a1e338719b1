"""The cheap lane's inline path: a repeat of a quick query is answered on the event loop, and only
while nothing was written since it was measured and no write is under way. The shapes that
share a measured history, and an entity page's own queries, which the lane takes from their first
run until one is slow."""

from __future__ import annotations

import asyncio
import threading
import time

import pyoxigraph as ox
from fastapi.testclient import TestClient

from graph.core.settings import Settings
from graph.sparql.text import bind_rows
from graph.store.embedded import Store
from graph.store.execution import QueryJob
from graph.store.lanes import CheapLane, shape
from server.app import create_app

LOOKUP = "SELECT ?o WHERE { <urn:test:a> <urn:test:p> ?o }"


def lane_over(store: Store, inline_seconds: float = 1.0) -> CheapLane:
    return CheapLane(store.raw, threads=2, cheap_seconds=1.0, lock=store.lock,
                     inline_seconds=inline_seconds, live=store)


def values(outcome) -> list[str]:
    assert outcome.status == 200, outcome.message
    solutions = ox.parse_query_results(outcome.body, format=ox.QueryResultsFormat.JSON)
    return sorted(s["o"].value for s in solutions)


def test_a_repeat_runs_inline_until_the_data_changes() -> None:
    store = Store(None)
    store.update('INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "1" } }')
    lane = lane_over(store)
    job = QueryJob(LOOKUP, format="json")

    async def scenario() -> None:
        loop_thread = threading.get_ident()
        assert values(await lane.run(job)) == ["1"] and lane.inline == 0  # measured in a thread
        assert values(await lane.run(job)) == ["1"] and lane.inline == 1  # then a repeat inline
        assert threading.get_ident() == loop_thread
        # Another text, or the same with another format, is other work: measured first.
        await lane.run(QueryJob(LOOKUP, format="tsv"))
        assert lane.inline == 1
        store.update('INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "2" } }')
        assert values(await lane.run(job)) == ["1", "2"] and lane.inline == 1  # measured again
        assert values(await lane.run(job)) == ["1", "2"] and lane.inline == 2
        assert lane.answered == 5

    asyncio.run(scenario())


def test_a_repeat_never_waits_on_the_loop_for_a_write_under_way() -> None:
    store = Store(None)
    store.update('INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "1" } }')
    lane = lane_over(store)
    job = QueryJob(LOOKUP, format="json")
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.lock:
            held.set()
            release.wait(10)

    async def scenario() -> None:
        await lane.run(job)
        thread = threading.Thread(target=writer)
        thread.start()
        held.wait(10)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, release.set)  # runs only if the loop is not held up by the query
        started = time.perf_counter()
        assert values(await lane.run(job)) == ["1"]
        assert lane.inline == 0 and time.perf_counter() - started >= 0.15
        thread.join()

    asyncio.run(scenario())


def test_on_disk_a_write_being_validated_leaves_repeats_inline_one_being_committed_not(
        tmp_path) -> None:
    store = Store(tmp_path / "store")
    store.update('INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "1" } }')
    lane = CheapLane(store.raw, threads=2, cheap_seconds=1.0, inline_seconds=1.0, live=store)
    job = QueryJob(LOOKUP, format="json")

    def holding(lock: threading.Lock | threading.RLock):
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with lock:
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(10)
        return thread, release

    async def scenario() -> None:
        await lane.run(job)  # measured in a thread
        thread, release = holding(store.lock)  # a writer working out and validating its change
        assert values(await lane.run(job)) == ["1"] and lane.inline == 1
        release.set()
        thread.join()
        thread, release = holding(store.committing)  # a write being put into the store
        assert values(await lane.run(job)) == ["1"] and lane.inline == 1  # went to a thread
        release.set()
        thread.join()
        assert values(await lane.run(job)) == ["1"] and lane.inline == 2

    asyncio.run(scenario())


def test_no_inline_path_when_it_is_switched_off() -> None:
    store = Store(None)
    store.update('INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "1" } }')
    lane = lane_over(store, inline_seconds=0)
    job = QueryJob(LOOKUP, format="json")

    async def scenario() -> None:
        for _ in range(3):
            assert values(await lane.run(job)) == ["1"]
        assert lane.inline == 0 and lane.answered == 3

    asyncio.run(scenario())


DETAILS = "SELECT ?p ?o WHERE { ?p <urn:test:p> ?o }"


def details_of(keys: int) -> QueryJob:
    """The details of a page of `keys` rows, bound as server.page_lists binds them."""
    rows = [[ox.NamedNode(f"urn:test:k{i}")] for i in range(keys)]
    return QueryJob(bind_rows(DETAILS, ["p"], rows), {})


def test_the_details_of_pages_of_a_like_length_share_one_shape() -> None:
    assert shape(details_of(17)) == shape(details_of(20)) == shape(details_of(32))
    assert shape(details_of(3)) == shape(details_of(4))


def test_many_more_rows_of_values_make_another_shape() -> None:
    shapes = {shape(details_of(n)) for n in (1, 2, 4, 8, 50, 1000)}
    assert len(shapes) == 6
    assert shape(details_of(32)) != shape(details_of(33))


def test_rows_that_differ_in_form_are_not_taken_for_a_run() -> None:
    mixed = "SELECT ?p WHERE { VALUES (?p) { (<urn:a>) (1) (<urn:b>) } }"
    same = "SELECT ?p WHERE { VALUES (?p) { (<urn:a>) (<urn:c>) (<urn:b>) } }"
    assert shape(QueryJob(mixed, {})) != shape(QueryJob(same, {}))


def test_a_page_query_is_taken_from_its_first_run_until_a_run_proves_it_slow() -> None:
    lane = CheapLane(ox.Store(), threads=2, cheap_seconds=0.1, history_min=2)
    visitor = QueryJob(LOOKUP, format="json")
    page = QueryJob(LOOKUP, format="json", page=True)
    assert lane.takes(page) and not lane.takes(visitor)  # one shape, two presumptions
    lane.record(page, 0.5)  # slower than cheap_seconds: measured on the workers from now on
    assert not lane.takes(page)
    lane.record(page, 0.01)
    assert not lane.takes(page)  # one quick run is not yet a history
    lane.record(page, 0.01)
    assert lane.takes(page) and lane.takes(visitor)
    lane.record(visitor, 0.5)  # whoever ran it slow, the shape leaves the lane for both
    assert not lane.takes(page) and not lane.takes(visitor)
    lane.close()


def test_the_first_entity_page_after_a_start_reads_in_the_cheap_lane(tmp_path) -> None:
    settings = Settings(store_path=":memory:", query_workers=1, derived_warm=False,
                        page_cache_mb=0, history_path=str(tmp_path / "history.jsonl"))
    with TestClient(create_app(settings)) as http:
        lane = http.app.state.backend.lane
        before = lane.answered
        page = http.get("/id/city/kaohsiung", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Gdynia" in page.text
        # the page's steps (statements out and in, partnerships, passages, the map's link, read
        # in two or three queries: server/page_lists.py): none waited for a worker
        assert lane.answered - before >= 2 and lane.demoted == 0
