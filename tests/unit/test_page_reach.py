"""Which resources' pages a change reaches (server/page_reach.py): the kept pages a write drops.

A stale page is a bug, a dropped one only costs time: every case here names a page that must be
reached, and the unrelated ones that must not.
"""

from __future__ import annotations

import pyoxigraph as ox

from server.page_reach import reached

CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
G = ox.NamedNode(f"{ID}graph/test")


def n(name: str) -> ox.NamedNode:
    return ox.NamedNode(name if ":" in name else f"{ID}{name}")


def q(s: str, p: str, o: str | ox.Literal) -> ox.Quad:
    return ox.Quad(n(s), n(p), o if isinstance(o, ox.Literal) else n(o), G)


DATA = [
    q("city/a", f"{RDFS}label", ox.Literal("A", language="en")),
    q("city/b", f"{RDFS}label", ox.Literal("B", language="en")),
    q("city/c", f"{RDFS}label", ox.Literal("C", language="en")),
    q("city/far", f"{RDFS}label", ox.Literal("Far", language="en")),
    q("city/a", f"{CD}country", "country/x"),
    q("port/a", f"{CD}locatedIn", "city/a"),
    q("agreement/ab", f"{CD}party", "city/a"),
    q("agreement/ab", f"{CD}party", "city/b"),
    q("agreement/cd", f"{CD}party", "city/c"),
    q("agreement/cd", f"{CD}signatory", "person/p"),
    q("agreement/ab", f"{PROV}wasDerivedFrom", "passage/1"),
    q("passage/1", f"{CD}quote", ox.Literal("...")),
    q("passage/1", f"{PROV}wasQuotedFrom", "report/r"),
    q("city/b", f"{GEO}lat", ox.Literal("1.0")),
]


def store() -> ox.Store:
    s = ox.Store()
    s.extend(DATA)
    return s


def test_a_statement_reaches_its_subject_and_object_and_the_parties_of_a_partnership():
    added = [q("agreement/ab", f"{CD}signedOn", ox.Literal("2026-01-01"))]
    s = store()
    s.extend(added)
    found = reached(s, added, [])
    assert found is not None
    assert {f"{ID}agreement/ab", f"{ID}city/a", f"{ID}city/b"} <= found
    assert not {f"{ID}city/c", f"{ID}city/far", f"{ID}port/a"} & found


def test_a_new_name_reaches_every_page_that_shows_it():
    old = q("city/a", f"{RDFS}label", ox.Literal("A", language="en"))
    new = q("city/a", f"{RDFS}label", ox.Literal("Aa", language="en"))
    s = store()
    s.remove(old)
    s.add(new)
    found = reached(s, [new], [old])
    assert found is not None
    # itself, what points at it, what it points at, its partnerships' other parties
    assert {f"{ID}city/a", f"{ID}port/a", f"{ID}country/x", f"{ID}agreement/ab",
            f"{ID}city/b"} <= found
    assert not {f"{ID}city/c", f"{ID}city/far"} & found


def test_a_participants_name_reaches_the_parties_of_its_partnerships():
    new = q("person/p", f"{RDFS}label", ox.Literal("P", language="en"))
    s = store()
    s.add(new)
    found = reached(s, [new], [])
    assert found is not None and {f"{ID}agreement/cd", f"{ID}city/c"} <= found


def test_the_data_before_the_change_counts_too():
    """A port no longer in the city: its page changes though the store no longer links them."""
    gone = q("port/a", f"{CD}locatedIn", "city/a")
    renamed = q("city/a", f"{RDFS}label", ox.Literal("Aa", language="en"))
    s = store()
    s.remove(gone)
    s.add(renamed)
    found = reached(s, [renamed], [gone])
    assert found is not None and f"{ID}port/a" in found


def test_a_passage_reaches_its_statements_and_what_they_are_about():
    changed = q("passage/1", f"{CD}lineStart", ox.Literal("3"))
    s = store()
    s.add(changed)
    found = reached(s, [changed], [])
    assert found is not None
    assert {f"{ID}passage/1", f"{ID}agreement/ab", f"{ID}city/a", f"{ID}city/b"} <= found


def test_coordinates_reach_the_partners_map_links():
    placed = q("city/a", f"{GEO}lat", ox.Literal("2.0"))
    s = store()
    s.add(placed)
    found = reached(s, [placed], [])
    assert found is not None and f"{ID}city/b" in found and f"{ID}city/c" not in found


def test_what_cannot_be_followed_cheaply_reaches_every_page():
    s = store()
    title = q("report/r", f"{RDFS}label", ox.Literal("R", language="zh-Hant"))
    blank = ox.Quad(n("city/a"), n(f"{CD}note"), ox.BlankNode(), G)
    used = q(f"{CD}locatedIn", f"{RDFS}label", ox.Literal("located in", language="en"))
    kind = q(f"{CD}NewKind", f"{RDFS}subClassOf", f"{CD}Agreement")
    for quad in (title, blank, used, kind):
        assert reached(s, [quad], []) is None, quad
    many = [q(f"city/n{i}", f"{CD}country", "country/x") for i in range(3000)]
    assert reached(s, many, []) is None
