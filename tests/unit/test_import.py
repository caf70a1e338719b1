"""Importing a pair list: the RDF it makes, its provenance, the report, the shapes, the CLI."""

import json
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from typer.testing import CliRunner

from graph.cli.main import app
from graph.core.namespaces import CD, GEO, GRAPH, ID
from graph.importing.world import SourceSpec, import_list
from graph.store.validate import parse_dir, validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
PAV = rdflib.Namespace("http://purl.org/pav/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
WD = rdflib.Namespace("http://www.wikidata.org/entity/")
KAOHSIUNG = ID["city/kaohsiung"]


def spec(**overrides) -> SourceSpec:
    values = dict(source="fixture", file=FIXTURES / "hekman-style.csv", language="en",
                  title="Fixture list", origin="https://example.org/list",
                  license="https://opensource.org/licenses/MIT", retrieved="2026-02-08")
    values.update(overrides)
    return SourceSpec(**values)


@pytest.fixture(scope="module")
def imported(settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    result = import_list(spec(), settings, out, context=[settings.data_dir], sample=50)
    graph = rdflib.Graph().parse(result.rdf_path, format="nt")
    return result, graph


def test_each_distinct_pair_is_one_relation_of_unstated_kind(imported):
    result, g = imported
    relations = set(g.subjects(RDF.type, CD.TwinningRelation))
    # 11 rows with two areas: a duplicate, a reversed pair and a self-loop are merged or
    # skipped; a row without a city is bad.
    assert len(relations) == result.summary["pairs"] == 8
    for r in relations:
        assert g.value(r, CD.relationKind) == ID["relation-kind/partner-city"]
        assert len(set(g.objects(r, CD.party))) == 2
        assert not list(g.objects(r, CD.since))
        assert not list(g.objects(r, RDF.type)) == [CD.SisterCityAgreement]


def test_provenance_node_and_line_of_each_fact(imported):
    _, g = imported
    source = ID["source/pair-list-fixture"]
    assert (source, RDF.type, CD.PairList) in g
    assert g.value(source, DCT.license) == rdflib.URIRef("https://opensource.org/licenses/MIT")
    assert g.value(source, PAV.retrievedFrom) == rdflib.URIRef("https://example.org/list")
    assert str(g.value(source, PAV.retrievedOn)) == "2026-02-08"
    assert str(g.value(source, CD.sourceFile)).endswith("hekman-style.csv")
    assert (GRAPH["world-fixture"], DCT.source, source) in g
    kaohsiung_busan = next(r for r in g.subjects(CD.party, KAOHSIUNG)
                           if (r, CD.party, ID["city/busan"]) in g)
    assert (kaohsiung_busan, PROV.wasDerivedFrom, source) in g
    # The lines are on the record of this list's rows, which the tie is derived from.
    rows = [o for o in g.objects(kaohsiung_busan, PROV.wasDerivedFrom)
            if (o, RDF.type, CD.PairListRow) in g]
    assert len(rows) == 1
    assert sorted(int(n) for n in g.objects(rows[0], CD.sourceLine)) == [2, 4, 5]
    assert (rows[0], PROV.wasDerivedFrom, source) in g
    assert not list(g.objects(kaohsiung_busan, CD.sourceLine))


def test_the_reports_cities_keep_their_iris_and_get_nothing_that_breaks_them(imported):
    result, g = imported
    parties = set(g.objects(None, CD.party))
    assert {KAOHSIUNG, ID["city/busan"], ID["city/gdynia"], ID["city/portland"],
            ID["city/hachioji"]} <= parties
    assert not [p for p in parties if "kaohsiung" in str(p) and p != KAOHSIUNG]
    # No label, country or coordinates the report's data could disagree with.
    for city in (KAOHSIUNG, ID["city/hachioji"]):
        assert not list(g.objects(city, RDFS.label))
        assert not list(g.objects(city, GEO.lat)) and not list(g.objects(city, CD.country))
    assert (ID["city/hachioji"], SKOS.altLabel, rdflib.Literal("Hachioji", lang="en")) not in g
    assert result.summary["reconciliation"]["report_actors"]


def test_new_areas_have_label_country_and_coordinates(imported):
    _, g = imported
    kiel = ID["area/kiel-de"]
    assert g.value(kiel, RDFS.label) == rdflib.Literal("Kiel", lang="en")
    assert g.value(kiel, CD.country) == ID["country/germany"]
    assert float(g.value(kiel, GEO.lat)) == pytest.approx(54.3233)
    assert (ID["country/germany"], CD.iso3166Alpha2, rdflib.Literal("DE")) not in g  # report's


def test_a_country_written_two_ways_is_one_area(imported):
    result, g = imported
    whitby = [s for s in g.subjects(RDFS.label, rdflib.Literal("Whitby", lang="en"))]
    assert whitby == [ID["area/whitby-gb"]]
    assert result.summary["cleaning"]["country-variant"] == 1
    assert result.summary["areas"] == 9


def test_unknown_countries_are_counted_listed_and_kept(imported):
    result, g = imported
    countries = result.summary["countries"]
    assert [u["name"] for u in countries["unresolved"]] == ["Atlantis"]
    assert countries["unresolved"][0]["lines"] == [11]
    atlantis = ID["area/atlantis-city-atlantis"]
    assert (atlantis, RDF.type, CD.AdministrativeArea) in g
    assert not list(g.objects(atlantis, CD.country))


def test_the_report_files_say_what_happened(imported):
    result, _ = imported
    text = result.report_path.read_text(encoding="utf-8")
    assert "line 7: self-loop" in text and "line 8: bad-row" in text and "Atlantis" in text
    assert "`city/kaohsiung`" in text
    doc = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert doc["cleaning"]["self-loop"] == 1 and doc["cleaning"]["bad-row"] == 1
    assert doc["validation"]["conforms"], doc["validation"]["findings"][:3]


def test_the_import_conforms_to_the_pair_list_profile_and_not_to_the_strict_shapes(
        imported, settings, store):
    result, g = imported
    data = store.to_rdflib()
    data += g
    relaxed = validate(data, parse_dir(Path(settings.shapes_dir) / "profiles" / "pair-list"))
    assert relaxed.conforms, relaxed.to_text()[:2000]
    assert result.validation is not None and result.validation.conforms


def test_the_reports_actors_still_pass_the_strict_shapes(imported, store, shapes):
    """The report's data with everything the import says about the report's own areas."""
    _, g = imported
    data = store.to_rdflib()
    report_iris = {s for s in data.subjects(RDF.type, None)}
    for s, p, o in g:
        if s in report_iris:
            data.add((s, p, o))
    found = validate(data, shapes)
    assert found.conforms, found.to_text()[:3000]


def test_wikidata_ids_become_same_as_links(settings, tmp_path):
    result = import_list(spec(source="ids", file=FIXTURES / "wikidata-ids.tsv",
                              names=FIXTURES / "wikidata-names.tsv", language=""),
                         settings, tmp_path, context=[settings.data_dir], sample=10)
    g = rdflib.Graph().parse(result.rdf_path, format="nt")
    assert (KAOHSIUNG, OWL.sameAs, WD.Q181557) in g
    assert (ID["area/kiel-q1707"], RDFS.label, rdflib.Literal("Kiel")) in g  # no language tag
    assert result.summary["pairs"] == 4


def test_bad_source_names_are_refused():
    with pytest.raises(ValueError, match="lower-case"):
        spec(source="My List")


runner = CliRunner()


def test_the_command_line_imports_and_summarises(tmp_path):
    result = runner.invoke(app, [
        "import", "pairs", str(FIXTURES / "other-columns.tsv"), "--source", "cli-fixture",
        "--language", "en", "--out", str(tmp_path), "--sample", "5",
        "--license", "https://creativecommons.org/publicdomain/zero/1.0/",
        "--origin", "https://example.org/pairs", "--retrieved", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert "10 rows → 7 relations" in result.output
    assert "1 self-loop" in result.output and "1 bad-row" in result.output
    assert "unresolved: Atlantis (1)" in result.output
    assert (tmp_path / "world-cli-fixture.nt").exists()
    assert (tmp_path / "world-cli-fixture.report.md").exists()
    status = runner.invoke(app, ["import", "status", "--out", str(tmp_path)])
    assert status.exit_code == 0 and "cli-fixture: 10 rows" in status.output


def test_a_list_without_licence_origin_or_date_does_not_validate(tmp_path):
    result = runner.invoke(app, ["import", "pairs", str(FIXTURES / "headerless.csv"),
                                 "--source", "bare", "--columns", "name1,country1,-,name2,country2",
                                 "--out", str(tmp_path), "--sample", "5"])
    assert result.exit_code == 1
    assert "3 violations" in result.output and "dcterms:license" in result.output.replace(
        "http://purl.org/dc/terms/", "dcterms:")


def test_the_command_line_names_the_file_and_line_of_non_utf8_input(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"city1,country1,city2,country2\nK\xf6ln,Germany,Turin,Italy\n")
    result = runner.invoke(app, ["import", "pairs", str(bad), "--source", "bad",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "not UTF-8" in result.output
