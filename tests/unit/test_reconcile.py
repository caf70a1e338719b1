"""Reconciliation: known matches and non-matches, and the bundled lists against the report."""

import csv
from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from graph.core.namespaces import CD, ID
from graph.core.settings import ROOT
from graph.importing.countries import CountryResolver
from graph.importing.gazetteer import Gazetteer
from graph.importing.names import distance_km, fold, name_keys, qualifier
from graph.importing.reconcile import ListArea, Reconciler, Target
from graph.importing.world import import_world, manifest

WD = rdflib.Namespace("http://www.wikidata.org/entity/")
KAOHSIUNG = ID["city/kaohsiung"]


def target(slug, names, country="", lat=None, lon=None, qid="", partners=()):
    return Target(f"{ID}{slug}", set(names), country, lat, lon, qid, {"kaohsiung-report"},
                  set(partners))


def entry(key, name, country="", lat=None, lon=None, qid="", hint="", partners=()):
    return ListArea(key, name, country, lat, lon, qid, hint, set(partners))


def decide(targets, *entries):
    return Reconciler(targets).reconcile({e.key: e for e in entries}).decisions


def test_names_compare_without_case_diacritics_saint_or_city_suffix():
    assert fold("Hachiōji") == fold("HACHIOJI")
    assert fold("St. Petersburg") == fold("Saint Petersburg") == fold("Sankt-Petersburg")
    assert "kumamoto" in name_keys("Kumamoto City") and "高雄" in name_keys("高雄市")
    assert round(distance_km(22.6273, 120.3014, 22.615, 120.2975), 1) == 1.4


def test_same_name_country_and_place_is_one_actor():
    kaohsiung = target("city/kaohsiung", {"Kaohsiung", "高雄市", "Kaohsiung City"}, "TW",
                       22.6273, 120.3014)
    d = decide([kaohsiung], entry("k", "Kaohsiung", "TW", 22.615, 120.2975))["k"]
    assert (d.status, d.iri) == ("matched", kaohsiung.iri)
    assert {"near", "country"} <= set(d.candidates[0].support)


def test_a_different_country_or_a_distant_place_rules_a_candidate_out():
    portland = target("city/portland", {"Portland"}, "US", 45.5152, -122.6784)
    decisions = decide([portland], entry("au", "Portland", "AU", -38.34, 141.6),
                       entry("me", "Portland", "US", 43.66, -70.26))
    assert decisions["au"].status == "new" and "different country" in \
        decisions["au"].rejected[0][1]
    assert decisions["me"].status == "new" and "km apart" in decisions["me"].rejected[0][1]


def test_two_candidates_of_one_name_are_ambiguous_unless_partners_decide():
    busan = target("city/busan", {"Busan"})
    oregon = target("city/portland", {"Portland"}, partners=[str(KAOHSIUNG)])
    maine = target("area/portland-me", {"Portland"})
    kaohsiung = target("city/kaohsiung", {"Kaohsiung"}, partners=[oregon.iri, busan.iri])
    reconciler = Reconciler([busan, oregon, maine, kaohsiung])
    found = reconciler.reconcile({
        "Q1": entry("Q1", "Portland", partners={"Q2"}),
        "Q2": entry("Q2", "Kaohsiung", partners={"Q1"}),
        "Q3": entry("Q3", "Portland"),
    }).decisions
    assert (found["Q1"].status, found["Q1"].iri) == ("matched", oregon.iri)
    assert found["Q1"].how == "name + partners"
    assert found["Q3"].status == "ambiguous" and len(found["Q3"].candidates) == 2


def test_a_wikidata_id_decides_and_a_different_one_rules_out():
    guam = target("territory/guam", {"Guam"}, "US", qid="Q16635")
    decisions = decide([guam], entry("Q16635", "Guåhan", qid="Q16635"),
                       entry("Q999", "Guam", qid="Q999"))
    assert decisions["Q16635"].how == "wikidata-id"
    assert decisions["Q999"].status == "new"


def test_a_qualifier_naming_another_country_rules_out():
    resolver = CountryResolver()
    niles = target("area/niles-us", {"Niles"}, "US")
    hint = resolver.hint("Illinois").code
    assert decide([niles], entry("Q1", "Niles (Illinois)", hint=hint))["Q1"].status == "matched"
    assert decide([niles], entry("Q2", "Niles (Äthiopien)",
                                 hint=resolver.hint("Äthiopien").code))["Q2"].status == "new"


def test_a_unique_name_without_support_is_unconfirmed_when_partners_disagree():
    naples = target("area/naples-it", {"Naples"}, "IT", partners={f"{ID}area/p{i}" for i in
                                                                  range(8)})
    d = decide([naples], entry("Q257830", "Naples", partners={"Q1"}))["Q257830"]
    assert d.status == "unconfirmed" and "no partner in common" in d.how


def test_two_areas_of_a_list_never_merge_into_one_actor():
    kiel = target("area/kiel-de", {"Kiel"}, "DE", 54.32, 10.14)
    decisions = decide([kiel], entry("a", "Kiel", "DE", 54.32, 10.14),
                       entry("b", "Kiel", "DE", 54.33, 10.13))
    # The better supported (here: nearer) takes the actor; the other is reported.
    assert (decisions["a"].status, decisions["b"].status) == ("matched", "ambiguous")
    tie = decide([kiel], entry("a", "Kiel", "DE"), entry("b", "Kiel", "DE"))
    assert {d.status for d in tie.values()} == {"ambiguous"}


# --- the bundled lists --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(settings, tmp_path_factory):
    """Both bundled lists imported as `citydip import world` does (validating small samples)."""
    out = tmp_path_factory.mktemp("world")
    results = {r.spec.source: r for r in import_world(settings, out, sample=20)}
    graphs = {name: rdflib.Graph().parse(r.rdf_path, format="nt")
              for name, r in results.items()}
    return results, graphs


def test_kaohsiung_in_both_lists_and_the_report_is_one_node(world):
    results, graphs = world
    for name, g in graphs.items():
        parties = set(g.objects(None, CD.party))
        assert KAOHSIUNG in parties, name
        assert not [p for p in parties if "kaohsiung" in str(p).lower() and p != KAOHSIUNG]
    assert (KAOHSIUNG, OWL.sameAs, WD.Q181557) in graphs["wikidata-2016"]
    for name in ("wikipedia", "wikidata-2016"):
        matched = {m["iri"] for m in results[name].summary["reconciliation"]["report_actors"]}
        assert {str(KAOHSIUNG), str(ID["city/gdynia"]), str(ID["city/busan"]),
                str(ID["city/portland"]), str(ID["city/katowice"]),
                str(ID["city/san-antonio"])} <= matched, name


def test_wikidata_areas_matched_to_wikipedia_areas_take_their_iri(world):
    _, graphs = world
    shanghai = [s for s in graphs["wikidata-2016"].subjects(OWL.sameAs, WD.Q8686)]
    assert shanghai == [ID["area/shanghai-cn"]]


def _distinct(areas_of_row):
    pairs, nodes = set(), set()
    for a, b in areas_of_row:
        if a != b:
            pairs.add(frozenset((a, b)))
            nodes.update((a, b))
    return nodes, pairs


def _counts(graph):
    relations = set(graph.subjects(RDF.type, CD.TwinningRelation))
    areas = {o for r in relations for o in graph.objects(r, CD.party)}
    return len(areas), len(relations)


def test_wikidata_counts_equal_the_distinct_pairs_of_the_file(world):
    _, graphs = world
    spec = next(s for s in manifest() if s.source == "wikidata-2016")
    rows = [line.split("\t") for line in spec.file.read_text(encoding="utf-8").splitlines()]
    nodes, pairs = _distinct((a.strip(), b.strip()) for a, b in rows)
    assert (len(nodes), len(pairs)) == (10055, 17401)
    assert _counts(graphs["wikidata-2016"]) == (len(nodes), len(pairs))


def test_wikipedia_counts_equal_the_distinct_pairs_after_the_documented_cleaning(world,
                                                                               settings):
    """Areas are (name, country as written); the spellings of one country (England / England,
    United Kingdom) are one area when the two are within 40 km, and so are the areas the
    gazetteer places at one GeoNames city (Kiev / Kyiv); self-loops are dropped."""
    _, graphs = world
    spec = next(s for s in manifest() if s.source == "wikipedia")
    with spec.file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    resolver = CountryResolver()
    areas: dict[tuple[str, str], tuple] = {}
    for row in rows:
        for i in "12":
            key = (row[f"city{i}"].strip(), row[f"country{i}"].strip())
            areas.setdefault(key, (float(row[f"lat{i}"]), float(row[f"lng{i}"])))
    canonical: dict[tuple[str, str], tuple[str, str]] = {}
    groups = defaultdict(list)
    for key in areas:  # in order of first appearance
        code = resolver.resolve(key[1])
        groups[(key[0], code.code if code else key)].append(key)
    for (_, code), keys in groups.items():
        for key in keys:
            head = keys[0]
            near = distance_km(*areas[head], *areas[key]) <= 40
            canonical[key] = head if isinstance(code, str) and key[1] and near else key
    gaz = Gazetteer(settings.gazetteer_min_population, ROOT / settings.gazetteer_cache)
    parent = dict(canonical)

    def root(key):
        while parent[key] != key:
            key = parent[key]
        return key

    first_of_place: dict[str, tuple[str, str]] = {}
    for key in areas:  # in order of first appearance
        code = resolver.resolve(key[1]) if key[1] else None
        if code is None and not key[1] and qualifier(key[0])[1]:
            code = resolver.resolve(qualifier(key[0])[1])
        found = gaz.locate([key[0], *filter(None, [qualifier(key[0])[0]])],
                           code.code if code else "", *areas[key])
        if found.place is not None:
            head = first_of_place.setdefault(found.place.gid, root(key))
            if root(key) != root(head):
                parent[root(key)] = root(head)
    canonical = {key: root(key) for key in areas}
    nodes, pairs = _distinct(
        (canonical[(r["city1"].strip(), r["country1"].strip())],
         canonical[(r["city2"].strip(), r["country2"].strip())]) for r in rows)
    assert len(rows) == 25917 and len(pairs) < 25917
    assert _counts(graphs["wikipedia"]) == (len(nodes), len(pairs))


def test_unresolved_countries_are_counted_and_listed(world):
    results, _ = world
    countries = results["wikipedia"].summary["countries"]
    names = {u["name"] for u in countries["unresolved"]}
    assert "Northern Cyprus" in names and countries["unresolved_rows"] >= 40
    assert countries["distinct"] > 200


def test_the_report_of_matches_is_written_beside_the_rdf(world):
    results, _ = world
    for r in results.values():
        assert r.report_path.exists() and r.summary["validation"]["conforms"]
    assert results["wikidata-2016"].summary["reconciliation"]["ambiguous"] > 0
    assert Path(results["wikipedia"].rdf_path).name == "world-wikipedia.nt"


def test_the_bundled_lists_make_posen_and_the_reports_poznan_one_node(world):
    _, graphs = world
    poznan = ID["city/poznan"]
    assert (poznan, OWL.sameAs, WD.Q268) in graphs["wikidata-2016"]
    assert (poznan, OWL.sameAs, rdflib.URIRef("https://sws.geonames.org/3088171/")) in \
        graphs["wikipedia"]
    assert not list(graphs["wikidata-2016"].subjects(RDF.type, CD.AdministrativeArea)) == [] \
        and ID["area/posen-q268"] not in set(graphs["wikidata-2016"].subjects())


def test_a_pair_of_both_bundled_lists_is_one_tie_with_two_sources(world):
    _, graphs = world
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    ties = {name: set(g.subjects(RDF.type, CD.TwinningRelation)) for name, g in graphs.items()}
    both = ties["wikipedia"] & ties["wikidata-2016"]
    assert len(both) > 5000  # Weimar – Siena among them
    weimar_siena = {r for r in both if "weimar" in str(r) and "siena" in str(r)}
    assert len(weimar_siena) == 1
    (tie,) = weimar_siena
    lists = {o for g in graphs.values() for o in g.objects(tie, prov.wasDerivedFrom)
             if (o, RDF.type, CD.PairList) in g}
    rows = {o for g in graphs.values() for o in g.objects(tie, prov.wasDerivedFrom)
            if (o, RDF.type, CD.PairListRow) in g}
    assert len(lists) == 2 and len(rows) == 2
