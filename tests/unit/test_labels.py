"""The label index (graph.store.labels): folding, ranking, browse pages, and following changes.

Over a real pyoxigraph store filled with the bundled data, and a store of generated actors.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from graph.core.settings import Settings
from graph.store.labels import FOLLOW_STEPS, LabelIndex, fold
from graph.store.load import build_store
from graph.write.changes import Changeset

ID = "https://w3id.org/citydiplomacy/id/"
CD = "https://w3id.org/citydiplomacy/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
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


def test_indexing_resources_again_reads_only_their_own_rows(index: LabelIndex) -> None:
    """A write indexes the resources it touched again: each step finds their rows through an
    index, never by reading a whole table (at world scale that was most of a write)."""
    arguments = {"touched": [ID + "city/gdynia"], "everyone": [ID + "city/gdynia"],
                 "labels": [[ID + "city/gdynia", "x", "en", 0, "x", "x"]],
                 "types": [[ID + "city/gdynia", CD + "City"]],
                 "degrees": [[ID + "city/gdynia", 3]]}
    steps = [step for step in FOLLOW_STEPS if "NEW.stamp" not in step]
    assert len(steps) == len(FOLLOW_STEPS) - 1
    for step in steps:
        (name,) = {name for name in arguments if f"NEW.{name}" in step}
        sql = step.replace(f"NEW.{name}", "?1")
        plan = [str(row[-1]) for row in index.db.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                         (json.dumps(arguments[name]),))]
        scans = [s for s in plan if s.startswith("SCAN") and not s.startswith("SCAN j ")
                 and "json_each" not in s]
        assert not scans, (step, plan)


class Counted:
    """A connection that notes each statement it is asked to run (each is a hand-over of the
    interpreter), including each row of an executemany."""

    def __init__(self, db, statements: list[str]) -> None:
        self.db, self.statements = db, statements

    def execute(self, sql: str, *args):
        self.statements.append(sql)
        return self.db.execute(sql, *args)

    def executemany(self, sql: str, rows):
        rows = list(rows)
        self.statements.extend(sql for _ in rows)
        return self.db.executemany(sql, rows)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def _contents(index: LabelIndex) -> dict[str, set]:
    """What the index says of each resource, by IRI (ids differ between two indexes)."""
    db = index.db
    return {
        "resources": set(db.execute("SELECT iri, name, name_lang, name_zh, sortkey, degree "
                                    "FROM resources")),
        "labels": set(db.execute("SELECT r.iri, text, lang, alt, folded FROM labels l "
                                 "JOIN resources r ON r.id = l.resource")),
        "types": set(db.execute("SELECT r.iri, class FROM types t JOIN resources r "
                                "ON r.id = t.resource")),
        "members": set(db.execute("SELECT class, m.sortkey, r.iri FROM members m "
                                  "JOIN resources r ON r.id = m.resource")),
        "member_of": set(db.execute("SELECT r.iri, class FROM member_of m "
                                    "JOIN resources r ON r.id = m.resource")),
    }


def test_following_a_change_leaves_what_a_build_makes_in_one_statement(store) -> None:
    """A change touching many resources (labels added and removed, a class, a new party) is
    followed in one statement, as one touching one: each statement hands the interpreter over,
    which a busy server makes a write wait for."""
    followed = LabelIndex(None, ID)
    followed.build(store)
    cities = sorted({q.subject for q in store.raw.quads_for_pattern(
        None, ox.NamedNode(RDF + "type"), ox.NamedNode(CD + "City"), None)}, key=str)[:20]
    assert len(cities) == 20
    gdynia = ox.NamedNode(ID + "city/gdynia")
    removed = {q for q in store.raw.quads_for_pattern(gdynia, LABEL, None, None)
               if q.object.language == "pl"}
    partnership = ox.NamedNode(ID + "partnership/test-following")
    added = {ox.Quad(city, LABEL, ox.Literal(f"Miasto {n} ąę", language="pl"), GRAPH)
             for n, city in enumerate(cities)} | {
        ox.Quad(cities[0], ox.NamedNode(RDF + "type"), ox.NamedNode(CD + "Port"), GRAPH),
        ox.Quad(partnership, ox.NamedNode(CD + "party"), cities[1], GRAPH),
        ox.Quad(partnership, ox.NamedNode(CD + "party"), cities[2], GRAPH)}
    assert removed
    statements: list[str] = []
    followed.db = Counted(followed.db, statements)  # type: ignore[assignment]
    one = Changeset(added=frozenset({next(iter(added))}))
    for quad in one.added:
        store.raw.add(quad)
    followed.apply(store, one.quads())
    for quad in one.added:
        store.raw.remove(quad)
    followed.apply(store, one.quads())
    assert len(statements) == 2
    change = Changeset(added=frozenset(added), removed=frozenset(removed))
    try:
        for quad in removed:
            store.raw.remove(quad)
        for quad in added:
            store.raw.add(quad)
        statements.clear()
        assert followed.apply(store, change.quads(), stamp="s") == len({*cities, gdynia})
        assert len(statements) == 1, statements
        built = LabelIndex(None, ID)
        built.build(store)
        assert _contents(followed) == _contents(built)
        full_text_matches_a_scan(followed, ["mias", "ae", "7", "gd"])
        assert followed.stamp() == "s"
        assert [h.iri for h in followed.search("miasto 7 ae")] == [cities[7].value]
    finally:
        for quad in added:
            store.raw.remove(quad)
        for quad in removed:
            store.raw.add(quad)
    followed.apply(store, change.quads())
    built = LabelIndex(None, ID)
    built.build(store)
    assert _contents(followed) == _contents(built)
    full_text_matches_a_scan(followed, ["mias", "ae", "7", "gd", "perła"])


def full_text_matches_a_scan(index: LabelIndex, needles: list[str]) -> None:
    """Both full-text tables find exactly the labels a scan of the folded labels finds."""
    for needle in needles:
        folded = fold(needle)
        scanned = {r for (r,) in index.db.execute(
            "SELECT id FROM labels WHERE instr(folded, ?) > 0", (folded,))}
        table = "labels_pairs" if len(folded) <= 2 else "labels_fts"
        indexed = {r for (r,) in index.db.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (f'"{folded}"',))}  # noqa: S608
        assert indexed == scanned, (needle, indexed ^ scanned)


def test_an_index_of_an_earlier_version_is_followed_without_its_old_triggers(tmp_path,
                                                                               store) -> None:
    """Indexes written before kept their full-text tables with triggers on `labels`; the
    follow now writes those tables itself, so a trigger left over would index a label twice."""
    path = tmp_path / "labels.sqlite"
    old = LabelIndex(path, ID)
    old.build(store)
    old.db.execute("CREATE TRIGGER labels_ai AFTER INSERT ON labels BEGIN "
                   "INSERT INTO labels_fts (rowid, folded) VALUES (new.id, new.folded); END")
    old.close()
    again = LabelIndex(path, ID)
    triggers = {name for (name,) in again.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"follow_write"}
    city = ox.NamedNode(ID + "city/gdynia")
    label = ox.Quad(city, LABEL, ox.Literal("Perła Bałtyku", language="pl"), GRAPH)
    store.raw.add(label)
    try:
        again.apply(store, Changeset(added=frozenset({label})).quads())
        full_text_matches_a_scan(again, ["perla", "ba"])
    finally:
        store.raw.remove(label)
