"""The bundled data conforms, every statement cites the report's words, nothing is invented."""

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS

from graph.core.namespaces import CD, GRAPH, ID, ORG
from graph.store.validate import validate

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
DATA = Path(__file__).resolve().parents[2] / "graph" / "data"
REPORT_TEXT = (DATA / "sources" / "kaohsiung-report.txt").read_text(encoding="utf-8").splitlines()
REPORT_GRAPH = str(GRAPH["kaohsiung-report"])


@pytest.fixture(scope="module")
def union(store) -> rdflib.Graph:
    return store.to_rdflib()


@pytest.fixture(scope="module")
def report(settings) -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "kaohsiung-report.ttl")


def instances(graph: rdflib.Graph, cls) -> set:
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c)}


def test_the_shipped_data_conforms_to_the_shapes(union, shapes):
    report = validate(union, shapes)
    assert report.conforms, report.to_text()


def test_each_data_file_is_its_own_named_graph(store):
    graphs = store.graphs()
    assert REPORT_GRAPH in graphs
    assert str(GRAPH["reference"]) in graphs
    assert str(GRAPH["shortcuts"]) in graphs and str(GRAPH["ontology"]) in graphs


def test_every_quote_is_the_reports_own_words_at_the_stated_lines(report):
    passages = set(report.subjects(RDF.type, CD.Passage))
    assert len(passages) > 50
    for passage in passages:
        start = int(report.value(passage, CD.lineStart))
        end = int(report.value(passage, CD.lineEnd))
        quote = report.value(passage, CD.quote)
        assert quote.language == "zh-Hant"
        assert str(quote) in "\n".join(REPORT_TEXT[start - 1:end]), passage


@pytest.mark.parametrize("cls", ["Partnership", "Event", "Membership", "VisitorStatistics"])
def test_every_statement_node_is_derived_from_a_passage(union, cls):
    nodes = instances(union, CD[cls])
    assert nodes
    for node in nodes:
        sources = set(union.objects(node, PROV.wasDerivedFrom))
        assert any((s, RDF.type, CD.Passage) in union for s in sources), node


def test_the_report_node_says_who_presented_it_where_and_no_date(union):
    report_node = ID["report/kaohsiung-administration-international-affairs-2026"]
    assert union.value(report_node, CD.reporter) == ID["person/chang-yen-ching"]
    session = union.value(report_node, CD.presentedAt)
    assert "第四屆第七次定期大會" in {str(v) for v in union.objects(session, RDFS.label)}
    assert not list(union.objects(report_node, CD.date))


def test_no_passage_comes_from_the_sections_that_are_not_diplomacy(report):
    # Lines 303-355: consumer protection, energy saving, archives management.
    for passage in report.subjects(RDF.type, CD.Passage):
        assert int(report.value(passage, CD.lineStart)) < 303


def test_dates_are_exactly_as_precise_as_the_report(union):
    assert union.value(ID["agreement/kaohsiung-gdynia-sister-city-2025"], CD.signedOn) == \
        rdflib.Literal("2025-09", datatype=rdflib.XSD.gYearMonth)
    assert union.value(ID["agreement/kaohsiung-san-antonio-sister-city-1982"], CD.signedOn) == \
        rdflib.Literal("1982", datatype=rdflib.XSD.gYear)
    # The report names the six-party memorandum without a date: none is made up.
    six = ID["agreement/six-party-semiconductor-ecosystem-global-talent-mou"]
    assert union.value(six, CD.signedOn) is None
    assert union.value(six, CD.dateNotStated).toPython() is True


def test_aomori_and_mutsu_are_partner_cities_without_an_invented_agreement(union):
    for area in ("prefecture/aomori", "city/mutsu"):
        ties = set(union.subjects(CD.party, ID[area]))
        kinds = {union.value(t, CD.relationKind) for t in ties}
        assert ID["relation-kind/partner-city"] in kinds
        assert not any((t, RDF.type, CD.SisterCityAgreement) in union for t in ties)
    assert (ID["city/mutsu"], CD.partOf, ID["prefecture/aomori"]) in union


def test_the_six_party_memorandum_has_six_parties(union):
    six = ID["agreement/six-party-semiconductor-ecosystem-global-talent-mou"]
    parties = set(union.objects(six, CD.party))
    assert parties == {ID[p] for p in (
        "city/kaohsiung", "agency/arizona-commerce-authority", "county/pima", "city/tucson",
        "university/university-of-arizona", "university/nsysu")}
    assert int(union.value(six, CD.partyCountStated)) == 6


def test_tucson_lies_in_pima_county_in_arizona(union):
    assert (ID["city/tucson"], CD.partOf, ID["county/pima"]) in union
    assert (ID["county/pima"], CD.partOf, ID["state/arizona"]) in union


def test_the_nine_mutsu_schools_each_signed_with_yangming(union):
    yangming = ID["school/kaohsiung-yangming-junior-high"]
    signed_2025 = [a for a in union.subjects(CD.party, yangming)
                   if str(union.value(a, CD.signedOn)) == "2025-12"]
    assert len(signed_2025) == 9
    partners = {p for a in signed_2025 for p in union.objects(a, CD.party)} - {yangming}
    assert all(union.value(p, CD.locatedIn) == ID["city/mutsu"] for p in partners)


def test_the_visitor_figures_are_data(union):
    figures = {}
    for node in union.subjects(RDF.type, CD.VisitorStatistics):
        figures[str(union.value(node, CD.periodStart))] = (
            int(union.value(node, CD.countryCount)), int(union.value(node, CD.visitCount)),
            int(union.value(node, CD.personCount)))
    assert figures == {"2025-01": (43, 121, 1420), "2026-01": (15, 33, 315)}


def test_officials_hold_roles_as_org_memberships(union):
    lo = ID["person/lo-ta-sheng"]
    memberships = list(union.subjects(ORG.member, lo))
    assert any(union.value(m, ORG.role) == ID["role/deputy-mayor"]
               and union.value(m, ORG.organization) == ID["city/kaohsiung"] for m in memberships)
    then_director = [m for m in union.subjects(CD.tenure, ID["tenure/former"])]
    assert then_director, "時任 (then-director) is a past role"


def test_shortcuts_are_derived_symmetric_and_agree_with_the_agreements(union):
    pairs = set(union.subject_objects(CD.sisterCityOf))
    assert pairs and all((b, a) in pairs for a, b in pairs)
    kaohsiung = ID["city/kaohsiung"]
    sisters = {b for a, b in pairs if a == kaohsiung}
    assert sisters == {ID[s] for s in ("city/gdynia", "city/katowice", "territory/guam",
                                       "city/san-antonio", "city/busan", "city/portland")}
    assert (kaohsiung, CD.friendshipCityOf, ID["city/hachioji"]) in union
    assert (ID["school/kaohsiung-renwu-senior-high"], CD.sisterSchoolOf,
            ID["school/katowice-no3-high"]) in union


def test_every_actor_is_labelled_in_english_and_traditional_chinese(union):
    for actor in instances(union, CD.Actor):
        languages = {label.language.lower() for label in union.objects(actor, RDFS.label)}
        assert {"en", "zh-hant"} <= languages, actor
