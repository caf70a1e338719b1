"""Entity pages sort their lists in the server, not in the engine, in the engine's own order.

`server.page_queries.rows_in_order` drops a page query's final `ORDER BY ?a ?b` and sorts the
rows with `term_order` (the engine took 550 ms to sort the 2,591 statements pointing at a hub
of a million triples). Here, over the bundled data in a real store, every entity-page list and
the passages of the busiest resources come out in the same order of their sort keys as the
engine's ORDER BY gives, holding the same rows.

A page reads its lists in steps, each step one query (`server.page_lists`): the counts per
property of its statements out and in and the keys of its partnerships; then one page of each
(the statements of the properties on the page, the subjects of those pointing at it, the
details of the page's partnerships) and the passages behind them. Every page read so holds the
rows, in the order, that the one-step query gives for it, and the passages of `source-of`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest

from graph.core.settings import Settings
from graph.sparql.catalogue import get_query, internal_query
from graph.sparql.text import bind_rows
from graph.store.embedded import Store
from graph.store.load import build_store
from server.page_lists import (
    first_passages,
    page_lists,
    page_statements,
    properties_on_page,
    quoted,
    rows_on_page,
    subjects_page,
)
from server.page_queries import ORDER_BY, in_order, term_order, unordered

SETTINGS = Settings(store_path=":memory:")
RESOURCES = ["city/kaohsiung", "city/gdynia", "country/japan",
             "event/2026-kaohsiung-smart-city-expo", "event/2026-sunlight-island-festival",
             "school/kaohsiung-yangming-junior-high",
             "agreement/six-party-semiconductor-ecosystem-global-talent-mou"]


@pytest.fixture(scope="module")
def store():
    return build_store(SETTINGS)


def queries():
    pages = [internal_query(SETTINGS.queries_dir, f"pages/{name}")
             for name in ("entity-in", "entity-out", "entity-partnerships",
                          "entity-partnerships-keys")]
    return [*pages, get_query(Path(SETTINGS.queries_dir), "source-of")]


def rows(store, text: str, bindings) -> list[dict]:
    solutions = store.query(text, bindings)
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names} for s in solutions]


@pytest.mark.parametrize("query", queries(), ids=lambda q: q.name)
def test_sorted_here_as_the_engine_sorts(store, query) -> None:
    found = ORDER_BY.search(query.text.rstrip())
    assert found, "a page list ends in ORDER BY of variables"
    keys = [v.lstrip("?") for v in found.group(1).split()]
    checked = 0
    for resource in RESOURCES:
        bindings = query.bindings({"resource": SETTINGS.resource_base + resource})
        engine = rows(store, query.text, bindings)
        ours = sorted(rows(store, query.text.rstrip()[:found.start()], bindings),
                      key=lambda row: tuple(term_order(row.get(k)) for k in keys))
        assert [[row.get(k) for k in keys] for row in ours] == [
            [row.get(k) for k in keys] for row in engine]
        assert Counter(map(repr, ours)) == Counter(map(repr, engine))
        checked += len(engine)
    assert checked > 20  # the lists compared are not empty


def page_query(name: str):
    return internal_query(SETTINGS.queries_dir, f"pages/{name}")


def sorted_rows(store, query, resource: str) -> list[dict]:
    text, keys = unordered(query)
    return in_order(rows(store, text, query.bindings({"resource": resource})), keys)


def same(row: dict) -> tuple:
    """A row as a set of its bound values but the resource (the keys leave it out, the page
    does not read it); GROUP_CONCAT's lists in any order."""
    return tuple(sorted((k, " ".join(sorted(v.value.split())) if k in GROUPED else str(v))
                        for k, v in row.items() if v is not None and k != "resource"))


GROUPED = {"kinds", "dates", "participants", "graphs"}


@pytest.mark.parametrize("size", [1, 3, 50])
def test_partnerships_read_in_two_steps_are_the_pages_of_one(store, size) -> None:
    full, keyed = page_query("entity-partnerships"), page_query("entity-partnerships-keys")
    text, order = unordered(full)
    compared = 0
    for resource in RESOURCES:
        iri = SETTINGS.resource_base + resource
        every, keys = sorted_rows(store, full, iri), sorted_rows(store, keyed, iri)
        assert [row["partnership"] for row in keys] == [row["partnership"] for row in every]
        assert [row["first"] for row in keys] == [row["first"] for row in every]
        for start in range(0, len(keys), size):
            chosen = [row["partnership"] for row in keys[start:start + size]]
            page = in_order(rows(store, bind_rows(text, ["partnership"], [[p] for p in chosen]),
                                 full.bindings({"resource": iri})), order)
            assert list(map(same, page)) == list(map(same, every[start:start + size]))
            compared += len(page)
    assert compared > 10, compared  # the lists compared are not empty


@pytest.mark.parametrize("shown", [1, 3, 20, 10_000])
def test_the_passages_quoted_are_the_first_of_source_of(store, shown) -> None:
    source = get_query(Path(SETTINGS.queries_dir), "source-of")
    compared = 0
    for resource in RESOURCES:
        every = sorted_rows(store, source, SETTINGS.resource_base + resource)
        passages = list(dict.fromkeys(row["passage"] for row in every))
        got, count = quoted(every, shown)
        assert count == len(passages)
        assert [row for row in every if row["passage"] in set(passages[:shown])] == got
        assert set(first_passages(every, shown)) == set(passages[:shown])
        compared += len(got)
    assert compared > 10, compared  # the lists compared are not empty


def statements_in_page(store, iri: ox.NamedNode, start: int,
                       size: int) -> tuple[list[dict] | None, int]:
    """A page of `entity-in` as the page reads it in two steps, and the count of its rows."""
    counts_query, subjects = page_query("entity-in-counts"), page_query("entity-in-subjects")
    counts = rows(store, counts_query.text, counts_query.bindings({"resource": iri.value}))
    wanted, total = properties_on_page(counts, start, size)
    text = bind_rows(subjects.text, ["p"], [[p] for p, _, _ in wanted])
    lists = rows(store, text, subjects.bindings({"resource": iri.value})) if wanted else []
    return subjects_page(wanted, lists, iri, start, size), total


@pytest.mark.parametrize("size", [1, 3, 50])
def test_statements_in_read_as_counts_and_subjects_are_the_pages_of_one(store, size) -> None:
    full = page_query("entity-in")
    compared, properties = 0, set()
    for resource in RESOURCES:
        iri = ox.NamedNode(SETTINGS.resource_base + resource)
        every = sorted_rows(store, full, iri.value)
        for start in range(0, len(every) + size, size):
            page, total = statements_in_page(store, iri, start, size)
            assert total == len(every)
            assert page == every[start:start + size], (resource, start)
            compared += len(page)
        properties |= {row["p"] for row in every}
    assert compared > 100 and len(properties) > 5, (compared, properties)


@pytest.mark.parametrize("size", [1, 3, 50])
def test_statements_out_read_for_the_pages_properties_are_the_pages_of_one(store, size) -> None:
    full, counted = page_query("entity-out"), page_query("entity-out-counts")
    text, order = unordered(full)
    compared, properties = 0, set()
    for resource in RESOURCES:
        iri = SETTINGS.resource_base + resource
        every = sorted_rows(store, full, iri)
        counts = rows(store, counted.text, counted.bindings({"resource": iri}))
        for start in range(0, len(every) + size, size):
            wanted, total = properties_on_page(counts, start, size)
            assert total == len(every)
            chosen = rows(store, bind_rows(text, ["p"], [[p] for p, _, _ in wanted]),
                          full.bindings({"resource": iri})) if wanted else []
            page = rows_on_page(wanted, chosen, order, start, size) if wanted else []
            assert page is not None
            assert list(map(same, page)) == list(map(same, every[start:start + size]))
            compared += len(page)
        properties |= {row["p"] for row in every}
    assert compared > 100 and len(properties) > 5, (compared, properties)


def test_statements_in_from_a_blank_node_are_read_in_one_step() -> None:
    """A subject with no text (a blank node) is missing from its property's list: the page
    cannot be made from the lists (and `statements_in` reads `entity-in` itself)."""
    store = Store()
    ns = "https://w3id.org/citydiplomacy/"
    iri, party = ox.NamedNode(f"{ns}id/city/hub"), ox.NamedNode(f"{ns}ns#party")
    store.raw.add(ox.Quad(ox.NamedNode(f"{ns}id/relation/one"), party, iri))
    store.raw.add(ox.Quad(ox.BlankNode(), party, iri))
    page, total = statements_in_page(store, iri, 0, 50)
    assert page is None and total == 2
    page, total = statements_in_page(store, ox.NamedNode(f"{ns}id/city/none"), 0, 50)
    assert page == [] and total == 0


class Rows:
    """A backend whose `select` reads the test store, as a worker's answer would be read; it
    counts the queries it is asked."""

    def __init__(self, store, max_rows: int) -> None:
        self.store, self.max_rows = store, max_rows
        self.queries = 0

    async def select(self, sparql: str, bindings=None, max_rows=None, **_) -> list[dict]:
        self.queries += 1
        return [{k: v for k, v in row.items() if v is not None}  # as SPARQL JSON reads back
                for row in rows(self.store, sparql, bindings or {})][:max_rows or self.max_rows]


def request_on(store, max_rows: int, size: int = 7):
    settings = SETTINGS.model_copy(update={"max_rows": max_rows, "page_size": size})
    state = SimpleNamespace(settings=settings, backend=Rows(store, max_rows))
    return SimpleNamespace(app=SimpleNamespace(state=state))


LISTS = {"out": "entity-out", "in": "entity-in", "partnerships": "entity-partnerships"}


@pytest.mark.parametrize("max_rows", [10_000, 5])
def test_a_pages_lists_are_the_pages_of_the_one_step_queries(store, max_rows) -> None:
    """`page_lists` as the page calls it, in steps and, past CITYDIP_MAX_ROWS (5 here), by the
    one-step queries sorted by the engine: the same pages, and the passages of `source-of`
    behind the statements on the page (behind all of them when the statements in fit on one)."""
    source = get_query(Path(SETTINGS.queries_dir), "source-of")
    compared = Counter()
    for resource in RESOURCES:
        iri = SETTINGS.resource_base + resource
        every = {name: sorted_rows(store, page_query(query), iri)
                 for name, query in LISTS.items()}
        passages = sorted_rows(store, source, iri)
        for number in range(1, max(map(len, every.values())) // 7 + 3):
            found = asyncio.run(page_lists(request_on(store, max_rows), iri,
                                           dict.fromkeys(LISTS, number), 7))
            for name, (page, more) in found.pages.items():
                whole = every[name]
                assert list(map(same, page)) == list(map(same, whole[(number - 1) * 7:
                                                                    number * 7])), (name, number)
                assert more == (len(whole) > number * 7)
                compared[name] += len(page)
            paged = len(every["in"]) > 7 or number > 1
            assert found.passages_of_page == paged
            statements = set(page_statements(iri, found.pages["in"][0],
                                             found.pages["partnerships"][0]) or ())
            behind = [row for row in passages if not paged or row["statement"] in statements]
            behind = behind[:max_rows]  # past CITYDIP_MAX_ROWS, the first of the engine's order
            assert (found.passages, found.passage_count) == quoted(behind, 20)
            compared["passages"] += len(found.passages)
    assert min(compared.values()) > 20, compared


def test_a_page_whose_lists_fit_is_read_in_two_queries_and_a_paged_one_in_three(store) -> None:
    """The page's lists are read a step at a time, each step one query."""
    for resource, size, queries in (("city/gdynia", 50, 2), ("city/kaohsiung", 7, 3)):
        request = request_on(store, 10_000, size)
        found = asyncio.run(page_lists(request, SETTINGS.resource_base + resource,
                                       dict.fromkeys(LISTS, 1), size))
        assert all(page for page, _ in found.pages.values()) and found.passages
        assert request.app.state.backend.queries == queries, resource
