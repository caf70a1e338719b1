"""The front page and the browse index never wait long for the first whole-graph counts.

- while the first count is still running (held back here by a backend whose counting queries
  wait for a gate), `/` and `/browse` answer 200 at once with the label index's figures, say
  which ones are still being counted, reload themselves and are kept by no cache;
- the label index's figures are those the counting queries give;
- once counted, the normal pages;
- the warm-up counts the front page before anything else, and makes the label index's figures
  ahead while it counts.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from live import until

from graph.backend import EmbeddedBackend
from graph.core.namespaces import CD, ID
from graph.core.settings import Settings
from graph.sparql.catalogue import internal_query
from graph.store.embedded import Store
from graph.store.execution import Outcome, QueryJob
from graph.store.labels import LabelIndex
from graph.store.load import build_store
from server import front_counts
from server.app import create_app

HELD = ("pages/overview", "pages/class-breakdown", "meta/void-graphs")
"""The counting queries of the front page the slow backend holds back."""


class SlowCounts(EmbeddedBackend):
    """The embedded backend whose front-page counting queries wait until `gate` is set, as
    they take seconds at the first start of a large store."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.gate = threading.Event()
        self.held = {internal_query(settings.queries_dir, name).text for name in HELD}

    async def _execute(self, job: QueryJob, lane: str) -> Outcome:
        if job.sparql in self.held:
            await asyncio.to_thread(self.gate.wait, 60)
        return await super()._execute(job, lane)


def settings(**values) -> Settings:
    return Settings(store_path=":memory:", query_workers=1, **values)


def counts_of(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'id="count-(\w+)" data-count="(\d+)"', page)}


def classes_of(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-class="([^"]+)">(\d+)<', page)


def test_the_front_page_answers_at_once_while_counting_then_the_counts() -> None:
    config = settings(derived_warm=False)
    backend = SlowCounts(config)
    with TestClient(create_app(config, backend=backend)) as http:
        began = time.perf_counter()
        first = http.get("/")
        took = time.perf_counter() - began
        assert first.status_code == 200
        assert took < config.front_page_wait + 2  # not the count's time: it is held
        assert 'id="counting"' in first.text and "being counted" in first.text
        assert 'http-equiv="refresh"' in first.text
        assert first.headers["Cache-Control"] == "no-store"
        assert first.headers["X-Data-Version"] == "0"
        assert "id=\"count-triples\" data-count" not in first.text  # not known yet: not shown
        browse = http.get("/browse")
        assert browse.status_code == 200 and 'id="counting"' in browse.text
        assert 'http-equiv="refresh"' in browse.text
        assert "counting" not in http.get("/browse?class=City").text  # a class: the index
        assert not backend.gate.is_set()

        backend.gate.set()  # the count is done
        done = until(lambda: 'id="counting"' not in (p := http.get("/")).text and p)
        assert done and done.status_code == 200
        assert "Cache-Control" not in done.headers
        assert 'http-equiv="refresh"' not in done.text
        assert "Counts as of data version 0." in done.text
        full = counts_of(done.text)
        # The label index's figures were the counted ones, class by class, in the same order.
        assert counts_of(first.text) == {k: v for k, v in full.items()
                                         if k not in ("triples", "graphs")}
        assert classes_of(first.text) == classes_of(done.text) != []
        assert full["triples"] > 0 and full["graphs"] > 0
        assert 'id="counting"' not in http.get("/browse").text


def test_a_count_done_within_the_wait_gives_the_normal_page_at_once() -> None:
    with TestClient(create_app(settings(derived_warm=False, front_page_wait=30))) as http:
        page = http.get("/")
        assert page.status_code == 200 and 'id="counting"' not in page.text
        assert counts_of(page.text)["triples"] > 0


def test_the_warm_up_counts_the_front_page_first() -> None:
    config = settings(derived_warm=True)
    backend = SlowCounts(config)
    app = create_app(config, backend=backend)
    with TestClient(app) as http:
        time.sleep(0.5)
        # held: nothing after the front page's counts has begun (no network read, no VoID)
        assert "network:data" not in app.state.derived.tasks
        assert "statistics:entities" not in app.state.derived.tasks
        # the label index's figures were made ahead, before anybody asked
        assert until(lambda: getattr(app.state, "front_counts_provisional", None), 10)
        assert 'id="counting"' in http.get("/").text
        backend.gate.set()
        assert until(lambda: "network:data" in app.state.derived.kept)
        assert 'id="counting"' not in http.get("/").text


# --- the label index's figures against the counting queries ---------------------------------------


def test_the_groups_are_read_from_the_overview_query() -> None:
    roots = front_counts.group_roots(Settings().queries_dir)
    assert [key for key, _ in roots] == ["areas", "countries", "organizations", "groups",
                                         "people", "agreements", "relations", "events",
                                         "passages"]
    assert dict(roots)["areas"] == f"{CD}AdministrativeArea"


@pytest.fixture(scope="module")
def with_rows() -> tuple[Store, LabelIndex]:
    """The bundled data plus an area that is also a country, and one row of a pair list."""
    store = build_store(Settings(store_path=":memory:"))
    graph = ox.NamedNode("https://w3id.org/citydiplomacy/graph/test")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    both = ox.NamedNode(f"{ID}city/test-city-state")
    row = ox.NamedNode(f"{ID}row/test-1")
    for s, o in ((both, f"{CD}City"), (both, f"{CD}Country"), (row, f"{CD}PairListRow")):
        store.raw.add(ox.Quad(s, rdf_type, ox.NamedNode(o), graph))
    index = LabelIndex(None, ID)
    index.build(store)
    return store, index


def test_the_label_index_gives_the_counting_queries_figures(with_rows) -> None:
    store, index = with_rows
    settings = Settings()
    found = front_counts.from_label_index(index, front_counts.group_roots(settings.queries_dir))

    def rows(name: str) -> list:
        return list(store.query(internal_query(settings.queries_dir, f"pages/{name}").text))

    counted = {r["group"].value: int(r["count"].value) for r in rows("overview")}
    assert "rows" not in counted  # the row states no tie (no line, no list): none counted
    assert found["totals"].pop("rows") is None  # not in the index: being counted
    assert found["totals"] == counted
    breakdown = [(r["group"].value, r["class"].value, int(r["count"].value))
                 for r in rows("class-breakdown")]
    shown = [(c["group"], c["iri"], c["count"]) for c in found["classes"]]
    assert sorted(shown, key=lambda c: c[0]) == breakdown  # the query orders by group first
    countries = len(list(store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{CD}Country> }}")))
    assert index.members_typed(f"{CD}AdministrativeArea", f"{CD}Country") == countries > 1
    assert index.typed_count(f"{CD}City") == len(list(store.query(
        f"SELECT DISTINCT ?s WHERE {{ ?s a <{CD}City> }}")))
    assert index.subclasses(f"{CD}Agreement")[0] == f"{CD}Agreement"
    assert f"{CD}SisterCityAgreement" in index.subclasses(f"{CD}Agreement")
