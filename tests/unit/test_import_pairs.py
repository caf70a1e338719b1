"""Reading pair lists: column variants, ids with a names file, and the cleaning of bad rows."""

from pathlib import Path

import pytest

from graph.importing.countries import CountryResolver
from graph.importing.pairs import PairListError, guess_columns, parse_columns, read_pairs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"


def names(pairs) -> set[frozenset[tuple[str, str]]]:
    """The pairs as sets of (name, country), whatever the columns were called."""
    return {frozenset({(pairs.nodes[p.a].name, pairs.nodes[p.a].country),
                       (pairs.nodes[p.b].name, pairs.nodes[p.b].country)})
            for p in pairs.pairs.values()}


def test_header_names_are_mapped_onto_fields():
    assert guess_columns(["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2",
                          "lng2"]) == {"name1": "city1", "country1": "country1", "lat1": "lat1",
                                       "lon1": "lng1", "name2": "city2", "country2": "country2",
                                       "lat2": "lat2", "lon2": "lng2"}
    assert guess_columns(["Source", "Source country", "Target", "Target country"]) == {
        "name1": "Source", "country1": "Source country", "name2": "Target",
        "country2": "Target country"}
    assert guess_columns(["city_a", "latitude_a", "qid_b", "to"])["lat1"] == "latitude_a"


def test_the_same_pairs_under_other_column_names_and_separators():
    csv = read_pairs(FIXTURES / "hekman-style.csv")
    tsv = read_pairs(FIXTURES / "other-columns.tsv")
    assert tsv.columns["name1"] == "Source" and "lat1" not in tsv.columns
    common = names(tsv) - {frozenset({("Whitby", "England"), ("Gdynia", "Poland")})}
    assert common <= names(csv)
    assert frozenset({("Kaohsiung", "Taiwan"), ("Busan", "South Korea")}) in names(tsv)


def test_coordinates_are_read_when_the_list_has_them():
    csv = read_pairs(FIXTURES / "hekman-style.csv")
    kaohsiung = csv.nodes["Kaohsiung\x1fTaiwan"]
    assert (kaohsiung.lat, kaohsiung.lon, kaohsiung.line) == (22.615, 120.2975, 2)
    assert csv.nodes["Kiel\x1fGermany"].lat == 54.3233


def test_duplicates_and_reversed_pairs_are_merged_with_every_line():
    csv = read_pairs(FIXTURES / "hekman-style.csv")
    pair = csv.pairs[tuple(sorted(("Kaohsiung\x1fTaiwan", "Busan\x1fSouth Korea")))]
    assert pair.lines == [2, 4, 5]
    kinds = {(p.line, p.kind) for p in csv.problems}
    assert {(4, "reversed"), (5, "duplicate")} <= kinds


def test_self_loops_bad_rows_and_bad_coordinates_are_counted_and_listed():
    csv = read_pairs(FIXTURES / "hekman-style.csv")
    by_kind = {p.kind: p for p in csv.problems}
    assert by_kind["self-loop"].line == 7 and "Kiel" in by_kind["self-loop"].message
    assert by_kind["bad-row"].line == 8 and "no name" in by_kind["bad-row"].message
    assert by_kind["bad-coordinates"].line == 13
    # The row with bad coordinates keeps its pair, without the coordinates.
    springfield = csv.nodes["Springfield\x1fUnited States"]
    assert springfield.lat is None
    assert csv.rows == 12 and len(csv.pairs) == 8
    assert csv.count("self-loop") == 1 and csv.count("bad-row") == 1


def test_ids_with_a_names_file():
    ids = read_pairs(FIXTURES / "wikidata-ids.tsv", names_path=FIXTURES / "wikidata-names.tsv")
    assert ids.columns == {"id1": "column 1", "id2": "column 2"}
    assert ids.nodes["Q181557"].name == "Kaohsiung" and ids.nodes["Q181557"].ident == "Q181557"
    assert len(ids.pairs) == 4  # Kaohsiung–Busan once though listed both ways
    assert ids.count("reversed") == 2 and ids.count("self-loop") == 1
    nameless = [p for p in ids.problems if p.kind == "no-name"]
    assert nameless and "Q999999999" in nameless[0].message
    assert ids.nodes["Q999999999"].name == "Q999999999"


def test_a_file_without_header_takes_its_columns_from_the_option():
    pairs = read_pairs(FIXTURES / "headerless.csv", columns="name1,country1,-,name2,country2")
    assert {n.name for n in pairs.nodes.values()} == {"Kaohsiung", "Busan", "Gdynia", "Kiel"}
    with pytest.raises(PairListError, match="no header row"):
        read_pairs(FIXTURES / "headerless.csv")


def test_explicit_column_mapping_and_its_errors():
    pairs = read_pairs(FIXTURES / "other-columns.tsv",
                       columns="name1=Source,name2=Target,country1=2,country2=4")
    assert pairs.nodes["Kaohsiung\x1fTaiwan"].country == "Taiwan"
    with pytest.raises(PairListError, match="unknown field 'town'"):
        parse_columns("town=Source")
    with pytest.raises(PairListError, match="no column 'City A'"):
        read_pairs(FIXTURES / "other-columns.tsv", columns="name1=City A,name2=Target")
    with pytest.raises(PairListError, match="--format"):
        read_pairs(FIXTURES / "other-columns.tsv", fmt="xlsx")


def test_non_utf8_input_is_a_clear_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("city1,country1,city2,country2\nKaohsiung,Taiwan,Gdynia,Poland\n"
                    "Zürich,Switzerland,Kraków,Poland\n".encode("latin-1"))
    with pytest.raises(PairListError) as caught:
        read_pairs(bad)
    message = str(caught.value)
    assert str(bad) in message and "line 3" in message and "not UTF-8" in message


def test_countries_resolve_with_pycountry_and_the_documented_overrides():
    resolver = CountryResolver()
    expected = {"Taiwan": "TW", "Russia": "RU", "Turkey": "TR", "England, United Kingdom": "GB",
                "Réunion, France": "RE", "Kosovo": "XK", "Georgia (country)": "GE",
                "Ivory Coast": "CI", "Czech Republic": "CZ", "in Italy": "IT", "TW": "TW",
                "Äthiopien": "ET"}
    for name, code in expected.items():
        found = resolver.resolve(name)
        assert found is not None and found.code == code, name
    for name in ("Northern Cyprus", "Atlantis", "Island", ""):
        assert resolver.resolve(name) is None, name
    assert resolver.hint("Illinois").code == "US"  # a US state in "Niles (Illinois)"
    assert "Atlantis" in resolver.unresolved()
