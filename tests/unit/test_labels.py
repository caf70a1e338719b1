"""The label index (graph.store.labels): folding, ranking, browse pages, and following changes.

Over a real pyoxigraph store filled with the bundled data, and a store of generated actors.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.core.settings import Settings
from graph.store.labels import LabelIndex, fold
from graph.store.load import build_store
from graph.write.changes import Changeset

ID = "https://w3id.org/citydiplomacy/id/"
CD = "https://w3id.org/citydiplomacy/ns#"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
GRAPH = ox.NamedNode("https://w3id.org/citydiplomacy/graph/test")


@pytest.fixture(scope="module")
def store():
    return build_store(Settings(store_path=":memory:"))


@pytest.fixture(scope="module")
def index(store) -> LabelIndex:
    built = LabelIndex(None, ID)
    built.build(store)
    return built


@pytest.mark.parametrize(("text", "folded"), [
    ("Gdańsk", "gdansk"), ("ŁÓDŹ", "lodz"), ("Kitakyūshū", "kitakyushu"),
    ("ＧＤＹＮＩＡ", "gdynia"), ("が", "が"), ("서울", "서울"), ("高雄", "高雄"),
])
def test_folding_drops_case_width_and_latin_accents_only(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(("needle", "iri"), [
    ("gdansk", "city/gdansk"), ("GDAŃSK", "city/gdansk"), ("poznan", "city/poznan"),
    ("格丁尼亞", "city/gdynia"),  # an alternative label
    ("丁尼", "city/gdynia"),  # two characters inside a label: the short-needle path
    ("대한민국", "country/south-korea"), ("青森", "prefecture/aomori"), ("むつ", "city/mutsu"),
    ("aohsiun", "city/kaohsiung"),  # a substring
])
def test_search_finds_labels_in_every_language(index: LabelIndex, needle: str, iri: str) -> None:
    hits = [h.iri for h in index.search(needle, 50)]
    assert ID + iri in hits, hits


def test_whole_label_first_then_prefix_then_partnerships(index: LabelIndex) -> None:
    hits = index.search("kaohsiung", 50)
    assert hits[0].iri == ID + "city/kaohsiung" and hits[0].rank == 0
    ranks = [h.rank for h in hits]
    assert ranks == sorted(ranks)
    same_rank = [h for h in hits if h.rank == hits[1].rank]
    degrees = [h.degree for h in same_rank]
    assert degrees == sorted(degrees, reverse=True) and len(set(degrees)) > 1


def test_search_restricted_to_a_language(index: LabelIndex) -> None:
    assert index.search("gdynia", 10, "pl")[0].labels == [("Gdynia", "pl")]
    assert not index.search("格丁尼亞", 10, "en")


def test_browse_pages_follow_names_and_include_subclasses(index: LabelIndex) -> None:
    every = index.members(CD + "Agreement", 10_000)
    assert len(every) == index.member_count(CD + "Agreement") > 20
    assert any(CD + "SisterCityAgreement" in item["types"] for item in every)
    first, second = index.members(CD + "Agreement", 10), index.members(CD + "Agreement", 10, 10)
    assert [i["iri"] for i in first + second] == [i["iri"] for i in every[:20]]
    names = [fold(i["name"] or "") for i in every]
    assert names == sorted(names)


def test_the_index_follows_a_change(store) -> None:
    index = LabelIndex(None, ID)
    index.build(store)
    city = ox.NamedNode(ID + "city/gdynia")
    label = ox.Quad(city, LABEL, ox.Literal("Perła Bałtyku", language="pl"), GRAPH)
    store.raw.add(label)
    try:
        assert index.apply(store, Changeset(added=frozenset({label})).quads()) == 1
        assert [h.iri for h in index.search("perla baltyku")] == [city.value]
    finally:
        store.raw.remove(label)
    index.apply(store, Changeset(removed=frozenset({label})).quads())
    assert index.search("perla baltyku") == []
    assert index.search("gdynia")[0].iri == city.value


def test_a_rebuild_matches_the_stamp_only_once(tmp_path, store) -> None:
    path = tmp_path / "labels.sqlite"
    index = LabelIndex(path, ID)
    assert index.ensure(store, "a") and not index.ensure(store, "a")
    index.close()
    again = LabelIndex(path, ID)  # a restart over the same store reuses the file
    assert not again.ensure(store, "a") and again.search("gdynia")
    assert again.ensure(store, "b")


def test_after_writes_a_restart_finds_the_index_current(tmp_path) -> None:
    from graph.store.embedded import Store
    from graph.store.labels import open_index
    from graph.write.writer import Writer

    folder = tmp_path / "store"
    settings = Settings(store_path=str(folder), history_path=str(tmp_path / "h.jsonl"))
    store = build_store(settings, store=Store(folder))
    writer = Writer(store, settings)
    index = open_index(store, settings, writer)
    alt = "<http://www.w3.org/2004/02/skos/core#altLabel>"
    for text in ("Perła Bałtyku", "Miasto z morza i marzeń"):
        result = writer.apply_update(
            f'INSERT DATA {{ GRAPH <{GRAPH.value}> {{ <{ID}city/gdynia> {alt} "{text}"@pl }} }}',
            "test", "an alternative name")
        assert result.committed
    assert [h.iri for h in index.search("marzen")] == [ID + "city/gdynia"]
    stored = index.stamp()
    index.close()
    again = open_index(store, settings, Writer(store, settings))  # the next start
    assert again.stamp() == stored  # the size kept along the writes is the store's
    assert [h.iri for h in again.search("perla")] == [ID + "city/gdynia"]


def test_short_needles_find_exactly_the_labels_a_scan_finds(index: LabelIndex) -> None:
    folded = [row[0] for row in index.db.execute("SELECT folded FROM labels")]
    needles = {text[i:i + n] for text in folded[::7] for n in (1, 2)
               for i in range(len(text) - n + 1)}
    needles = {n for n in needles if n.isalnum()} | {"qz", "丁丁", "x9"}
    assert len(needles) > 200 and any(not n.isascii() for n in needles)
    for needle in sorted(needles):
        indexed = {r for (r,) in index.db.execute(
            "SELECT rowid FROM labels_pairs WHERE labels_pairs MATCH ?", (f'"{needle}"',))}
        scanned = {r for (r,) in index.db.execute(
            "SELECT id FROM labels WHERE instr(folded, ?) > 0", (needle,))}
        assert indexed == scanned, needle


def test_indexing_a_resource_again_reads_only_its_own_rows(index: LabelIndex) -> None:
    """A write indexes the resources it touched again: each of their rows is dropped through
    an index, never by reading a whole table (at world scale that was most of a write)."""
    for table in ("labels", "types", "members", "member_of"):
        plan = " ".join(str(row[-1]) for row in index.db.execute(
            f"EXPLAIN QUERY PLAN DELETE FROM {table} WHERE resource=?", (1,)))  # noqa: S608
        assert "SEARCH" in plan and "SCAN" not in plan, (table, plan)
