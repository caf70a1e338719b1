"""The world web as one place graph: the gazetteer behind reconciliation, one tie per pair
across lists, labels and counts that read right. Two small lists in the shapes of the bundled
ones (a Wikipedia scrape with countries and coordinates, a Wikidata crawl with German-first
labels and no language tag) are imported with the real GeoNames gazetteer."""

import re
import shutil
from pathlib import Path

import httpx
import pytest
import rdflib
from live import citydip_server, until
from rdflib.namespace import OWL, RDF, RDFS

from graph.core.namespaces import CD, ID
from graph.core.settings import ROOT, Settings
from graph.importing.gazetteer import Gazetteer, geonames_iri
from graph.importing.world import SourceSpec, import_list
from graph.store.embedded import Store
from graph.store.load import build_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
WD = rdflib.Namespace("http://www.wikidata.org/entity/")
POZNAN = ID["city/poznan"]


def wikipedia() -> SourceSpec:
    return SourceSpec(source="gz-wikipedia", file=FIXTURES / "gazetteer-wikipedia.csv",
                      language="en", title="Fixture scrape", origin="https://example.org/a",
                      license="https://opensource.org/licenses/MIT", retrieved="2026-02-08")


def wikidata() -> SourceSpec:
    return SourceSpec(source="gz-wikidata", file=FIXTURES / "gazetteer-wikidata.tsv",
                      names=FIXTURES / "gazetteer-wikidata-names.tsv", format="tsv",
                      columns="id1,id2", language="", title="Fixture crawl",
                      origin="https://example.org/b",
                      license="https://creativecommons.org/publicdomain/zero/1.0/",
                      retrieved="2016-09-10")


@pytest.fixture(scope="module")
def data_dir(settings, tmp_path_factory) -> Path:
    """The report's files and both fixture lists, imported as `citydip import world` does."""
    folder = tmp_path_factory.mktemp("data")
    for path in settings.data_dir.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    out = folder / "world"
    first = import_list(wikipedia(), settings, out, context=[folder], sample=None)
    import_list(wikidata(), settings, out, context=[folder, first.rdf_path], sample=None)
    return folder


@pytest.fixture(scope="module")
def union(data_dir) -> rdflib.Graph:
    g = rdflib.Graph()
    for path in sorted((data_dir / "world").glob("*.nt")):
        g.parse(path, format="nt")
    return g


def _ties(g: rdflib.Graph, a: rdflib.URIRef, b: rdflib.URIRef) -> set:
    return {r for r in g.subjects(CD.party, a) if (r, CD.party, b) in g
            and (r, RDF.type, CD.TwinningRelation) in g}


def _area(g: rdflib.Graph, name: str) -> rdflib.URIRef:
    found = {s for s in g.subjects(RDFS.label, None)
             if any(str(o) == name for o in g.objects(s, RDFS.label))
             and (s, RDF.type, CD.AdministrativeArea) in g}
    assert len(found) == 1, (name, found)
    return found.pop()


def test_the_gazetteer_finds_a_city_by_name_country_and_place_not_by_name_alone(settings):
    gaz = Gazetteer(settings.gazetteer_min_population, ROOT / settings.gazetteer_cache)
    poznan = gaz.locate(["Poznań"], "PL")
    assert poznan.status == "located" and poznan.place.gid == "3088171"
    assert "posen" in gaz.keys("3088171")
    # Posen, Illinois is a GeoNames city too: a name without country or place decides nothing.
    assert gaz.locate(["Posen"]).status == "no-evidence"
    assert len(gaz.candidates(["Posen"])) >= 2
    assert gaz.locate(["Poznań"], "PL", -33.9, 151.2).status == "none"  # coordinates rule out


def test_posen_of_the_wikidata_list_and_the_reports_poznan_are_one_node(union):
    assert (POZNAN, OWL.sameAs, WD.Q268) in union
    assert (POZNAN, OWL.sameAs, rdflib.URIRef(geonames_iri("3088171"))) in union
    assert not list(union.subjects(OWL.sameAs, WD.Q268)) == [] and \
        set(union.subjects(OWL.sameAs, WD.Q268)) == {POZNAN}
    # And München is the Munich of the other list, found through the gazetteer's names.
    munich = _area(union, "Munich")
    assert (munich, OWL.sameAs, WD.Q1726) in union


def test_areas_of_one_list_that_are_one_place_are_one_node(data_dir, union):
    report = (data_dir / "world" / "world-gz-wikipedia.report.md").read_text(encoding="utf-8")
    assert "same-place" in report and "## Gazetteer" in report
    kyiv = _area(union, "Kyiv")
    partners = {o for r in union.subjects(CD.party, kyiv) for o in union.objects(r, CD.party)}
    assert _area(union, "Kraków") in partners and _area(union, "Munich") in partners


def test_a_pair_in_both_lists_is_one_tie_with_two_sources(union):
    weimar, siena = _area(union, "Weimar"), _area(union, "Siena")
    ties = _ties(union, weimar, siena)
    assert len(ties) == 1
    tie = ties.pop()
    rows = [o for o in union.objects(tie, PROV.wasDerivedFrom)
            if (o, RDF.type, CD.PairListRow) in union]
    lists = {o for o in union.objects(tie, PROV.wasDerivedFrom)
             if (o, RDF.type, CD.PairList) in union}
    assert len(rows) == 2 and len(lists) == 2
    assert {union.value(r, PROV.wasDerivedFrom) for r in rows} == lists
    assert sorted(int(union.value(r, CD.sourceLine)) for r in rows) == [1, 2]
    # The report's Poznań ties with Rennes once, whichever list says it.
    assert len(_ties(union, POZNAN, _area(union, "Rennes"))) == 1


def test_every_tie_has_a_label_per_language_of_its_parties(union):
    for tie in set(union.subjects(RDF.type, CD.TwinningRelation)):
        labels = list(union.objects(tie, RDFS.label))
        assert labels, tie
        assert all(" – " in str(label) for label in labels)
    weimar, siena = _area(union, "Weimar"), _area(union, "Siena")
    (tie,) = _ties(union, weimar, siena)
    assert {(str(x), x.language) for x in union.objects(tie, RDFS.label)} == {
        ("Siena – Weimar", "en")}
    # Two areas named only without a language tag: one label, without a tag.
    leipzig, frankfurt = _area(union, "Leipzig"), _area(union, "Frankfurt am Main")
    (tie,) = _ties(union, leipzig, frankfurt)
    assert [(str(x), x.language) for x in union.objects(tie, RDFS.label)] == [
        ("Frankfurt am Main – Leipzig", None)]


def test_reimporting_a_list_is_idempotent(settings, data_dir, tmp_path):
    out = data_dir / "world"
    before = {p.name: p.read_bytes() for p in out.glob("*.nt")}
    first = import_list(wikipedia(), settings, out, context=[data_dir], sample=5)
    import_list(wikidata(), settings, out, context=[data_dir, first.rdf_path], sample=5)
    after = {p.name: p.read_bytes() for p in out.glob("*.nt")}
    assert after == before
    g = rdflib.Graph()
    for data in after.values():
        g.parse(data=data, format="nt")
    pairs = [frozenset(g.objects(r, CD.party)) for r in g.subjects(RDF.type, CD.TwinningRelation)]
    assert len(pairs) == len(set(pairs))  # one tie per pair


def _count(store: Store, query: str) -> int:
    return int(next(iter(store.query(query)))[0].value)


@pytest.fixture(scope="module")
def served(data_dir):
    with citydip_server({"CITYDIP_DATA_DIR": str(data_dir), "CITYDIP_DATASETS": "all"}) as s:
        yield s


def test_the_front_page_counts_equal_sparql_counts_of_areas_and_ties(served, data_dir):
    store = build_store(Settings(data_dir=data_dir, datasets=["all"]), store=Store(None))
    prefix = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#> " \
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    areas = _count(store, prefix + "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a ?c . "
                   "?c rdfs:subClassOf* cd:AdministrativeArea "
                   "FILTER NOT EXISTS { ?a a cd:Country } }")
    ties = _count(store, prefix + "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { "
                  "?r a cd:TwinningRelation ; cd:party ?a , ?b FILTER (STR(?a) < STR(?b)) "
                  "BIND (CONCAT(STR(?a), ' ', STR(?b)) AS ?p) }")
    # the counted page, not the label index's figures shown while the first count runs
    page = until(lambda: 'id="counting"' not in (r := httpx.get(f"{served}/", timeout=60)).text
                 and r)
    assert page and page.status_code == 200

    def shown(key: str) -> int:
        return int(re.search(rf'id="count-{key}" data-count="(\d+)"', page.text).group(1))

    assert shown("areas") == areas and areas > 24  # the report's areas and the lists'
    assert shown("relations") == ties
    # Rows: 4 + 4 lines of the two lists, each named on the page with its count.
    assert shown("rows") == 8
    assert "Fixture scrape" in page.text and "Fixture crawl" in page.text
    browse = httpx.get(f"{served}/browse", timeout=60)
    assert browse.status_code == 200 and "Fixture crawl" in browse.text
    void = httpx.get(f"{served}/.well-known/void", headers={"Accept": "text/turtle"}, timeout=60)
    g = rdflib.Graph().parse(data=void.text, format="turtle")
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    dataset = rdflib.URIRef(f"{served}/.well-known/void#dataset")
    entities = {str(g.value(p, VOID["class"])): int(g.value(p, VOID.entities))
                for p in g.objects(dataset, VOID.classPartition)}
    nodes = _count(store, prefix + "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { "
                   "?r a cd:TwinningRelation }")
    assert entities[str(CD.TwinningRelation)] == nodes >= ties
    assert any("4 rows" in str(d) for d in g.objects(None, rdflib.namespace.DCTERMS.description))


def test_no_search_result_shows_a_raw_iri_or_an_empty_language_badge(served):
    for q in ("Weimar", "Leipzig", "Frankfurt", "Posen"):
        page = httpx.get(f"{served}/search", params={"q": q}, timeout=60)
        assert page.status_code == 200
        hits = re.findall(r'<div class="hit-title">(.*?)</div>', page.text, re.S)
        assert hits, q
        for hit in hits:
            text = re.sub(r"<[^>]+>", "", hit)
            assert "https://" not in text and not re.search(r"\bid:\S", text), (q, hit)
        assert '<span class="tag">@</span>' not in page.text
    page = httpx.get(f"{served}/search", params={"q": "Leipzig"}, timeout=60)
    assert "language not stated" in page.text
