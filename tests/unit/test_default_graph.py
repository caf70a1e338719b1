"""A data file as large as CITYDIP_DEFAULT_GRAPH_BYTES is loaded into the default graph (three
indexes, not six): the union, the shortcuts, the counts, the pages' statements and the network
are those of the same file in a named graph of its own, and the write API does not edit it.

graph.store.load.graph_of. Here the setting is 1 byte, so the data folder's own files are all
"large"; the same fill with the setting 0 (every file in a named graph) is the reference. Real
stores: in memory, and a bulk fill on disk.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.core.namespaces import GRAPH, SHORTCUTS_GRAPH
from graph.core.settings import Settings
from graph.network.data import fetch, store_select
from graph.sparql.catalogue import get_query, internal_query
from graph.store.embedded import Store
from graph.store.load import build_store, data_files, graph_of
from graph.write.changes import ChangeError
from graph.write.history import History
from graph.write.writer import Writer

SETTINGS = Settings()
REPORT_GRAPH = str(GRAPH["kaohsiung-report"])
CITY = "https://w3id.org/citydiplomacy/id/city/"
KAOHSIUNG, GDYNIA = ox.NamedNode(CITY + "kaohsiung"), ox.NamedNode(CITY + "gdynia")


def settings(default_graph_bytes: int, **more) -> Settings:
    return Settings(store_path=":memory:", default_graph_bytes=default_graph_bytes, **more)


@pytest.fixture(scope="module")
def named() -> Store:
    return build_store(settings(0))


@pytest.fixture(scope="module")
def shared() -> Store:
    return build_store(settings(1))


def triples_of(store: Store) -> Counter:
    return Counter((q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, None))


def in_default_graph(store: Store) -> set:
    return {(q.subject, q.predicate, q.object)
            for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def report_triples() -> set:
    """The data folder's own files as the engine stores them (it normalises some literals)."""
    store = ox.Store()
    for path in data_files([SETTINGS.data_dir]):
        store.load(path=str(path))
    return {(q.subject, q.predicate, q.object) for q in store}


def rows(store: Store, query, **values: str) -> list[tuple]:
    solutions = store.query(query.text, query.bindings(values))
    names = [v.value for v in solutions.variables]
    return sorted(tuple(getattr(s[n], "value", "") for n in names) for s in solutions)


def test_only_the_data_folders_own_large_files_go_to_the_default_graph(tmp_path) -> None:
    world = tmp_path / "world"
    world.mkdir()
    pairs, report = world / "world-example.nt", tmp_path / "big.ttl"
    pairs.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    report.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    assert graph_of(report, settings(1)) is None
    assert graph_of(report, settings(10**6)) == str(GRAPH["big"])
    assert graph_of(report, settings(0)) == str(GRAPH["big"])
    assert graph_of(pairs, settings(1)) == str(GRAPH["world-example"])  # replaced by graph
    assert graph_of(report, settings(1, store_backend="remote",
                                     remote_query_url="http://127.0.0.1:9/q")) == str(GRAPH["big"])


def test_the_file_is_in_the_default_graph_and_the_union_is_the_same(named, shared) -> None:
    assert REPORT_GRAPH in named.graphs() and REPORT_GRAPH not in shared.graphs()
    assert in_default_graph(shared) == report_triples() and not in_default_graph(named)
    assert triples_of(shared) == triples_of(named)


def test_the_shortcuts_are_derived_from_it_as_from_a_named_graph(named, shared) -> None:
    graph = ox.NamedNode(str(SHORTCUTS_GRAPH))
    ours = set(shared.quads_for_pattern(None, None, None, graph))
    assert ours == set(named.quads_for_pattern(None, None, None, graph)) and len(ours) > 100


@pytest.mark.parametrize("name", ["class-counts", "relation-counts"])
def test_the_named_counting_queries_count_its_statements(named, shared, name) -> None:
    query = get_query(Path(SETTINGS.queries_dir), name)
    assert rows(shared, query) == rows(named, query) and len(rows(named, query)) > 10


@pytest.mark.parametrize("name", ["void-classes", "void-properties", "void-totals",
                                  "void-entities"])
def test_the_void_counts_count_its_statements(named, shared, name) -> None:
    query = internal_query(SETTINGS.queries_dir, f"meta/{name}")
    values = {"base": SETTINGS.resource_base} if name == "void-entities" else {}
    assert rows(shared, query, **values) == rows(named, query, **values)


def test_triples_per_graph_say_what_the_default_graph_holds(named, shared) -> None:
    query = internal_query(SETTINGS.queries_dir, "meta/void-graphs")
    for store, own in ((named, 0), (shared, len(report_triples()))):
        found = rows(store, query)
        every = [int(n) for graph, n in found if not graph]
        per_graph = sum(int(n) for graph, n in found if graph)
        assert len(every) == 1 and every[0] - per_graph == own


@pytest.mark.parametrize("resource", [KAOHSIUNG, GDYNIA])
def test_an_entity_pages_statements_are_the_same(named, shared, resource) -> None:
    out = internal_query(SETTINGS.queries_dir, "pages/entity-out")
    counts = internal_query(SETTINGS.queries_dir, "pages/entity-out-counts")

    def statements(store: Store) -> list[tuple]:
        return [(p, o) for _, p, o, _ in rows(store, out, resource=resource.value)]

    ours = statements(shared)
    assert ours == statements(named) and len(ours) > 5
    assert rows(shared, counts, resource=resource.value) == rows(named, counts,
                                                                 resource=resource.value)
    # a derived statement still says it is one
    assert any(str(SHORTCUTS_GRAPH) in graphs
               for *_, graphs in rows(shared, out, resource=resource.value))


def test_its_partnerships_are_the_reports_in_the_network(named, shared) -> None:
    ours = fetch(store_select(shared), SETTINGS.queries_dir)
    theirs = fetch(store_select(named), SETTINGS.queries_dir)
    assert ours.partnerships == theirs.partnerships and len(ours.partnerships) > 10
    assert {p.sources for p in ours.partnerships.values()} == {("report",)}


def test_the_write_api_refuses_to_remove_its_statements_and_loses_nothing() -> None:
    store = build_store(settings(1))
    writer = Writer(store, settings(1), History(None))
    before = triples_of(store)
    label = next(store.quads_for_pattern(
        GDYNIA, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None, None))
    statement = f"{label.subject} {label.predicate} {label.object}"
    for update in (f"DELETE DATA {{ {statement} }}",
                   f"DELETE WHERE {{ {label.subject} {label.predicate} ?o }}"):
        with pytest.raises(ChangeError) as refused:
            writer.apply_update(update, "alice", "remove a label")
        assert refused.value.status == 403 and "CITYDIP_DEFAULT_GRAPH_BYTES" in str(refused.value)
    assert triples_of(store) == before
    # what is not in the default graph is written as ever
    added = "<https://example.org/note> <http://www.w3.org/2000/01/rdf-schema#comment> \"x\" ."
    writer.apply_update(f"INSERT DATA {{ GRAPH <{SETTINGS.write_graph}> {{ {added} }} }}",
                        "alice", "a note")
    after = triples_of(store)
    assert (ox.NamedNode("https://example.org/note"),
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"), ox.Literal("x")) in after
    assert not before - after


def test_a_bulk_fill_on_disk_says_which_files_went_to_the_default_graph(named, tmp_path) -> None:
    folder = tmp_path / "store"
    store = build_store(Settings(store_path=str(folder), default_graph_bytes=1),
                        store=Store(folder))
    assert triples_of(store) == triples_of(named)
    marker = json.loads((tmp_path / "store.filled").read_text())
    assert marker["bulk"] is True and marker["triples"] == store.count()  # counted as it went
    assert marker["default_graph"] == [str(p) for p in data_files([SETTINGS.data_dir])]
    assert not list(tmp_path.glob("store.derive-*"))  # the rules' snapshot and files are gone


def test_a_rule_that_fails_in_its_process_fails_the_fill_and_says_which(tmp_path) -> None:
    queries = tmp_path / "queries"
    shutil.copytree(SETTINGS.queries_dir, queries)
    (queries / "rules" / "broken.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    folder = tmp_path / "store"
    with pytest.raises(RuntimeError, match=r"broken\.rq.*not a CONSTRUCT query"):
        build_store(Settings(store_path=str(folder), queries_dir=queries), store=Store(folder))
    assert not (tmp_path / "store.filled").exists()
