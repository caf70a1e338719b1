"""The incremental SHACL check is sound: it reaches the verdict a full validation reaches.

A property-based test draws random changes (valid and invalid: new agreements, removed parties
and memberships, wrong labels and datatypes, one-way shortcuts, untyped references, missing codes,
removed types, changed language codes and partOf links, …) against a small valid graph, stages
each through the write path (`Writer.stage`: incremental shortcuts, focus nodes, extraction,
pyshacl on the extract), and compares with pyshacl over the whole resulting graph, with the
shortcuts re-derived from scratch: the same verdict, the same violations, the same warnings on
the focus nodes, and the same shortcuts, every time.

Also kept here: the pyshacl 0.40.1 `focus_nodes=` defect (nested-shape violations dropped), and a
check that the dependency table of graph/write/incremental.py covers every shape.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.namespace import SH

from graph.core.namespaces import CD, GRAPH, ID, ORG, SHORTCUTS_GRAPH
from graph.store.embedded import Store
from graph.store.load import load_ontology, materialise_shortcuts
from graph.store.validate import Finding, parse_dir, validate
from graph.write.changes import effective
from graph.write.history import History
from graph.write.incremental import coverage_problems
from graph.write.writer import Writer

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests" / "shapes" / "valid"
EXAMPLES = ["sister-city-agreement-with-signatories", "six-party-mou-with-party-count-stated",
            "sister-school-mou-with-university-group", "twinning-relations-with-shortcuts",
            "port-cooperation-agreement-signed-at-expo"]
BASE = ox.NamedNode(str(GRAPH["base"]))
EDITS = ox.NamedNode(str(GRAPH["edits"]))
SHORTCUTS = ox.NamedNode(str(SHORTCUTS_GRAPH))
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
DERIVED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
XSD = "http://www.w3.org/2001/XMLSchema#"


def cd(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(CD[name]))


def res(path: str) -> ox.NamedNode:
    return ox.NamedNode(str(ID[path]))


def lit(value: str, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


class World:
    """The base graph, its writer, and the nodes changes are drawn from."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.store = Store(None)
        load_ontology(self.store, settings)
        for name in EXAMPLES:
            self.store.load_file(VALID / f"{name}.ttl", BASE.value)
        # A hand-written shortcut pair that no agreement derives (still valid: both ways).
        tucson, busan = res("city/tucson"), res("city/busan")
        self.store.raw.extend([ox.Quad(tucson, cd("partnerOf"), busan, BASE),
                               ox.Quad(busan, cd("partnerOf"), tucson, BASE)])
        materialise_shortcuts(self.store, settings)
        self.quads = list(self.store.raw)
        self.shortcuts = set(self.store.quads_for_pattern(None, None, None, SHORTCUTS))
        self.shapes = parse_dir(settings.shapes_dir)
        self.writer = Writer(self.store, settings, History(None))

        def instances(cls: str) -> list:
            rows = self.store.query(
                "SELECT DISTINCT ?x WHERE { ?x a/<http://www.w3.org/2000/01/rdf-schema#"
                f"subClassOf>* <{CD[cls]}> }} ORDER BY ?x")
            return [r["x"] for r in rows]

        self.agreements = instances("Agreement")
        self.partnerships = instances("Partnership")
        self.areas = instances("AdministrativeArea")
        self.actors = instances("Actor")
        self.persons = instances("Person")
        self.memberships = instances("Membership")
        self.countries = instances("Country")
        self.groups = instances("ActorGroup")
        self.passages = instances("Passage")
        self.typed = sorted({q.subject for q in self.quads
                             if q.graph_name == BASE and q.predicate == RDF_TYPE}, key=str)

    def base_quads(self, subject=None, predicate=None) -> list[ox.Quad]:
        return sorted((q for q in self.store.quads_for_pattern(subject, predicate, None, BASE)),
                      key=str)


@pytest.fixture(scope="module")
def world(settings) -> World:
    world = World(settings)
    report = validate(world.store.to_rdflib(), world.shapes)
    assert report.conforms and not report.violations, report.to_text()
    return world


# --- the changes -----------------------------------------------------------------------------

def new_agreement(w: World, data) -> tuple[list, list]:
    """A new agreement: well-formed (a dated MOU between two actors), or drawn freely (a kind
    its parties may not fit, one party, a label or the date missing, any signatory)."""
    n = data.draw(st.integers(0, 999), label="agreement number")
    node = res(f"agreement/gen-{n}")
    if data.draw(st.booleans(), label="well-formed"):
        a, b = data.draw(st.lists(st.sampled_from(w.actors), min_size=2, max_size=2,
                                  unique=True))
        return [ox.Quad(node, RDF_TYPE, cd("MemorandumOfUnderstanding"), EDITS),
                ox.Quad(node, LABEL, lit(f"Agreement {n}", "en"), EDITS),
                ox.Quad(node, LABEL, lit(f"協定 {n}", "zh-Hant"), EDITS),
                ox.Quad(node, cd("party"), a, EDITS), ox.Quad(node, cd("party"), b, EDITS),
                ox.Quad(node, cd("signedOn"), lit("2025-09", datatype=XSD + "gYearMonth"), EDITS),
                ox.Quad(node, cd("status"), res("status/signed"), EDITS),
                ox.Quad(node, DERIVED_FROM, data.draw(st.sampled_from(w.passages)), EDITS)], []
    kind = data.draw(st.sampled_from(["SisterCityAgreement", "FriendshipCityAgreement",
                                      "MemorandumOfUnderstanding", "SisterSchoolAgreement",
                                      "PortCooperationAgreement"]))
    parties = data.draw(st.lists(st.sampled_from(w.actors), min_size=1, max_size=3, unique=True))
    add = [ox.Quad(node, RDF_TYPE, cd(kind), EDITS),
           ox.Quad(node, LABEL, lit(f"Agreement {n}", "en"), EDITS),
           ox.Quad(node, DERIVED_FROM, data.draw(st.sampled_from(w.passages)), EDITS)]
    if data.draw(st.booleans(), label="zh label"):
        add.append(ox.Quad(node, LABEL, lit(f"協定 {n}", "zh-Hant"), EDITS))
    add += [ox.Quad(node, cd("party"), p, EDITS) for p in parties]
    date = data.draw(st.sampled_from(["date", "year", "not stated", "none"]))
    if date == "date":
        add.append(ox.Quad(node, cd("signedOn"), lit("2025-09-01", datatype=XSD + "date"), EDITS))
    elif date == "year":
        add.append(ox.Quad(node, cd("signedOn"), lit("2025", datatype=XSD + "gYear"), EDITS))
    elif date == "not stated":
        add.append(ox.Quad(node, cd("dateNotStated"), lit("true", datatype=XSD + "boolean"),
                           EDITS))
    status = data.draw(st.sampled_from(["signed", "in-preparation", None]))
    if status:
        add.append(ox.Quad(node, cd("status"), res(f"status/{status}"), EDITS))
    if data.draw(st.booleans(), label="signatory"):
        add.append(ox.Quad(node, cd("signatory"), data.draw(st.sampled_from(w.persons)), EDITS))
    return add, []


def remove_party(w: World, data):
    quads = [q for a in w.partnerships for q in w.base_quads(a, cd("party"))]
    return [], [data.draw(st.sampled_from(quads))]


def remove_membership(w: World, data):
    membership = data.draw(st.sampled_from(w.memberships))
    quads = w.base_quads(membership)
    if data.draw(st.booleans(), label="whole membership"):
        return [], quads
    return [], [data.draw(st.sampled_from(quads))]


def add_label(w: World, data):
    node = data.draw(st.sampled_from(w.actors + w.agreements))
    lang = data.draw(st.sampled_from(["en", "zh-Hant", "ko", "xx", None]))
    return [ox.Quad(node, LABEL, lit("Another name", lang), EDITS)], []


def change_date_datatype(w: World, data):
    quads = [q for a in w.agreements for q in w.base_quads(a, cd("signedOn"))] + [
        q for a in w.partnerships for q in w.base_quads(a, cd("since"))]
    old = data.draw(st.sampled_from(quads))
    datatype = data.draw(st.sampled_from([XSD + "string", XSD + "dateTime", XSD + "gYear"]))
    return [ox.Quad(old.subject, old.predicate, lit(old.object.value, datatype=datatype),
                    BASE)], [old]


def one_way_shortcut(w: World, data):
    a, b = data.draw(st.sampled_from(w.actors)), data.draw(st.sampled_from(w.actors))
    predicate = data.draw(st.sampled_from(["sisterCityOf", "partnerOf", "friendshipCityOf"]))
    return [ox.Quad(a, cd(predicate), b, EDITS)], []


def untyped_reference(w: World, data):
    node = data.draw(st.sampled_from(w.agreements + w.actors))
    predicate = data.draw(st.sampled_from(["party", "partOf", "locatedIn", "witness"]))
    return [ox.Quad(node, cd(predicate), res("city/nowhere"), EDITS)], []


def remove_iso_code(w: World, data):
    country = data.draw(st.sampled_from(w.countries))
    return [], w.base_quads(country, cd("iso3166Alpha2"))


def remove_types(w: World, data):
    node = data.draw(st.sampled_from(w.typed))
    return [], w.base_quads(node, RDF_TYPE)


def change_language_code(w: World, data):
    country = data.draw(st.sampled_from(w.countries))
    code = data.draw(st.sampled_from(["ja", "de", "en", "zh-Hant", "EN!"]))
    return [ox.Quad(country, cd("languageCode"), lit(code), BASE)], w.base_quads(
        country, cd("languageCode"))


def remove_chain_link(w: World, data):
    """One partOf/locatedIn/subOrganizationOf link, or all of a node's (which can cut a
    signatory's organization off from the agreement's parties)."""
    chain = [cd("partOf"), cd("locatedIn"), ox.NamedNode(str(ORG.subOrganizationOf))]
    quads = [q for p in chain for q in w.base_quads(None, p)]
    link = data.draw(st.sampled_from(quads))
    if data.draw(st.booleans(), label="all links of the node"):
        return [], [q for p in chain for q in w.base_quads(link.subject, p)]
    return [], [link]


def date_and_not_stated(w: World, data):
    agreement = data.draw(st.sampled_from(w.agreements))
    return [ox.Quad(agreement, cd("dateNotStated"), lit("true", datatype=XSD + "boolean"),
                    EDITS)], []


def set_in_preparation(w: World, data):
    agreement = data.draw(st.sampled_from(w.agreements))
    return [ox.Quad(agreement, cd("status"), res("status/in-preparation"), BASE)], \
        w.base_quads(agreement, cd("status"))


def remove_partnership(w: World, data):
    partnership = data.draw(st.sampled_from(w.partnerships))
    return [], w.base_quads(partnership)


def new_membership(w: World, data):
    n = data.draw(st.integers(0, 999), label="membership number")
    node = res(f"membership/gen-{n}")
    add = [ox.Quad(node, RDF_TYPE, cd("Membership"), EDITS),
           ox.Quad(node, ox.NamedNode(str(ORG.member)), data.draw(st.sampled_from(w.persons)),
                   EDITS),
           ox.Quad(node, ox.NamedNode(str(ORG.organization)),
                   data.draw(st.sampled_from(w.actors)), EDITS),
           ox.Quad(node, DERIVED_FROM, data.draw(st.sampled_from(w.passages)), EDITS)]
    if data.draw(st.booleans(), label="role"):
        add.append(ox.Quad(node, ox.NamedNode(str(ORG.role)),
                           data.draw(st.sampled_from([res("role/mayor"), res("status/signed")])),
                           EDITS))
    return add, []


def change_member_class(w: World, data):
    group = data.draw(st.sampled_from(w.groups))
    cls = data.draw(st.sampled_from(["University", "City", "School"]))
    return [ox.Quad(group, cd("memberClass"), cd(cls), BASE)], w.base_quads(
        group, cd("memberClass"))


def bad_group_size(w: World, data):
    group = data.draw(st.sampled_from(w.groups))
    value = data.draw(st.sampled_from([lit("four"), lit("0", datatype=XSD + "integer"),
                                       lit("5", datatype=XSD + "integer")]))
    return [ox.Quad(group, cd("groupSize"), value, BASE)], w.base_quads(group, cd("groupSize"))


MUTATIONS = [new_agreement, remove_party, remove_membership, add_label, change_date_datatype,
             one_way_shortcut, untyped_reference, remove_iso_code, remove_types,
             change_language_code, remove_chain_link, date_and_not_stated, set_in_preparation,
             remove_partnership, new_membership, change_member_class, bad_group_size]


# --- the comparison ----------------------------------------------------------------------------

def key(finding: Finding) -> tuple:
    return (finding.severity, finding.focus, finding.path, finding.value, finding.component,
            finding.message)


def full_validation(w: World, change) -> tuple:
    """pyshacl over the whole resulting graph, shortcuts derived from scratch."""
    scratch = Store(None)
    scratch.raw.extend(w.quads)
    if change:
        scratch.apply(change.removed, change.added)
    materialise_shortcuts(scratch, w.settings)
    shortcuts = set(scratch.quads_for_pattern(None, None, None, SHORTCUTS))
    return validate(scratch.to_rdflib(), w.shapes), shortcuts


def assert_same_verdict(world: World, change, context: str) -> bool:
    """Stage a change; check it against a full validation of the result. Returns the verdict."""
    staged = world.writer.stage(change)
    full, shortcuts = full_validation(world, change)
    derived = (world.shortcuts - staged.derived.removed) | staged.derived.added
    assert derived == shortcuts, f"{context}: shortcuts differ from a full derivation"
    assert staged.verdict.conforms == full.conforms, (
        f"{context}: incremental says {staged.verdict.conforms}, full validation "
        f"{full.conforms}:\nincremental:\n{staged.verdict.report.to_text()}\n"
        f"full:\n{full.to_text()}")
    assert {key(f) for f in staged.verdict.report.violations} == {
        key(f) for f in full.violations}, f"{context}: other violations than a full validation"
    focus = {n.value for n in staged.verdict.focus if isinstance(n, ox.NamedNode)}
    assert {key(f) for f in staged.verdict.report.warnings} == {
        key(f) for f in full.warnings if f.focus in focus}, f"{context}: other warnings"
    return full.conforms


EXAMPLES_PER_KIND = 2
"""Examples drawn for each kind of change (each with up to one more change of any kind):
34 in all, about 30 s; derandomized, so every run checks the same ones. Shrinking is off: with
a full validation per example it would take many minutes; the failing changes are printed."""


def test_incremental_verdict_equals_full_validation(world: World) -> None:
    verdicts: Counter = Counter()

    def check_starting_with(first) -> None:
        @settings(max_examples=EXAMPLES_PER_KIND, deadline=None, derandomize=True,
                  database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def check(data) -> None:
            more = data.draw(st.lists(st.sampled_from(MUTATIONS), max_size=1), label="more")
            add, remove = [], []
            for mutation in [first, *more]:
                more_add, more_remove = mutation(world, data)
                add += more_add
                remove += more_remove
            change = effective(world.store, add, remove)
            context = f"changes {[first.__name__] + [m.__name__ for m in more]}"
            verdicts[assert_same_verdict(world, change, context)] += 1

        check()

    for mutation in MUTATIONS:
        check_starting_with(mutation)
    assert verdicts[True] >= 8 and verdicts[False] >= 8, verdicts


def _quads(w: World, node: str, *predicates: str) -> list[ox.Quad]:
    found = w.base_quads(res(node))
    return [q for q in found if not predicates or q.predicate.value.rsplit("#", 1)[-1].rsplit(
        "/", 1)[-1] in predicates]


def _agreement(node: str, kind: str, *parties: str) -> list[ox.Quad]:
    n = res(node)
    return [ox.Quad(n, RDF_TYPE, cd(kind), EDITS),
            ox.Quad(n, LABEL, lit("An agreement", "en"), EDITS),
            ox.Quad(n, LABEL, lit("協定", "zh-Hant"), EDITS),
            ox.Quad(n, cd("dateNotStated"), lit("true", datatype=XSD + "boolean"), EDITS),
            ox.Quad(n, DERIVED_FROM, res("passage/kaohsiung-report-l84"), EDITS),
            *(ox.Quad(n, cd("party"), res(p), EDITS) for p in parties)]


SCENARIOS = {
    # what the change does: (quads to add, quads to remove), built from the base graph
    "signatory's organization cut off from the parties": lambda w: (
        [], _quads(w, "agency/kaohsiung-economic-development-bureau", "locatedIn",
                   "subOrganizationOf")),
    "signatory's membership removed": lambda w: (
        [], _quads(w, "membership/kaohsiung-economic-development-director")),
    "signatory's membership no longer typed": lambda w: (
        [], _quads(w, "membership/aleksandra-kosiorek-mayor-gdynia", "type")),
    "a party no longer typed": lambda w: ([], _quads(w, "city/gdynia", "type")),
    "a group of universities now of cities": lambda w: (
        [ox.Quad(res("group/oregon-four-universities"), cd("memberClass"), cd("City"), BASE)],
        _quads(w, "group/oregon-four-universities", "memberClass")),
    "a country's language changed": lambda w: (
        [ox.Quad(res("country/taiwan"), cd("languageCode"), lit("ja"), BASE)],
        _quads(w, "country/taiwan", "languageCode")),
    "an agreement in preparation leaves a hand-written shortcut one way": lambda w: (
        [ox.Quad(res("agreement/kaohsiung-gdynia-sister-city-2025"), cd("status"),
                 res("status/in-preparation"), BASE)],
        _quads(w, "agreement/kaohsiung-gdynia-sister-city-2025", "status")
        + [q for q in _quads(w, "city/gdynia", "sisterCityOf")]),
    "an agreement removed": lambda w: (
        [], _quads(w, "agreement/kaohsiung-gdynia-sister-city-2025")),
    "a new sister-city agreement of a hub": lambda w: (
        _agreement("agreement/tucson-busan", "SisterCityAgreement", "city/tucson", "city/busan",
                   "city/kaohsiung"), []),
    "a new sister-city agreement with a school": lambda w: (
        _agreement("agreement/tucson-school", "SisterCityAgreement", "city/tucson",
                   "university/arizona"), []),
    "a new agreement with an untyped party": lambda w: (
        _agreement("agreement/tucson-nowhere", "FriendshipCityAgreement", "city/tucson",
                   "city/nowhere"), []),
    "a person's role no longer typed as membership": lambda w: (
        [], _quads(w, "membership/luo-da-sheng-deputy-mayor-kaohsiung", "type")),
    "a role given by an untyped node": lambda w: (
        [ox.Quad(res("membership/untyped"), ox.NamedNode(str(ORG.member)),
                 res("person/luo-da-sheng"), EDITS)], []),
    "the reverse of a hand-written shortcut removed": lambda w: (
        [], [q for q in _quads(w, "city/busan", "partnerOf")
             if q.object == res("city/tucson")]),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_verdict_equals_full_validation(world: World, scenario: str) -> None:
    """Changes chosen to reach each rule of the dependency table, checked the same way."""
    add, remove = SCENARIOS[scenario](world)
    assert add or remove, f"{scenario}: the base graph lacks what the scenario changes"
    change = effective(world.store, add, remove)
    assert change
    assert_same_verdict(world, change, scenario)


# --- the pyshacl focus_nodes defect --------------------------------------------------------------

NESTED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:S a sh:NodeShape ; sh:targetClass ex:Thing ;
  sh:property [ sh:path ex:size ; sh:or ( [ sh:datatype xsd:integer ]
                                          [ sh:datatype xsd:positiveInteger ] ) ] .
"""
BROKEN = '@prefix ex: <http://example.org/> . ex:a a ex:Thing ; ex:size "four" .'


def test_pyshacl_focus_nodes_drops_nested_violations() -> None:
    """The defect the incremental check works around (it never passes focus_nodes)."""
    shapes = Graph().parse(data=NESTED_SHAPES, format="turtle")
    data = Graph().parse(data=BROKEN, format="turtle")
    assert not pyshacl.validate(data, shacl_graph=shapes)[0]
    with_focus = pyshacl.validate(data, shacl_graph=shapes,
                                  focus_nodes=["http://example.org/a"])[0]
    if pyshacl.__version__ == "0.40.1":
        assert with_focus, "pyshacl 0.40.1 reports conforms=True here (the defect)"


def test_nested_shape_violation_is_reported_by_the_write_path(world: World) -> None:
    """An agreement typed without its kind breaks a qualified value shape (nested): pyshacl
    0.40.1 with focus_nodes= misses it (and counts every label as English instead), the write
    path reports exactly it."""
    agreement = next(a for a in world.agreements if a.value.endswith("gdynia-sister-city-2025"))
    change = effective(world.store, [ox.Quad(agreement, RDF_TYPE, cd("Agreement"), BASE)],
                       world.base_quads(agreement, RDF_TYPE))
    staged = world.writer.stage(change)
    full, _ = full_validation(world, change)
    found = {(f.focus, f.path, f.component.rsplit("#", 1)[-1])
             for f in staged.verdict.report.violations}
    assert found == {(agreement.value, str(RDF_TYPE.value), "QualifiedMinCountConstraintComponent")}
    assert found == {(f.focus, f.path, f.component.rsplit("#", 1)[-1]) for f in full.violations}

    _, results, _ = pyshacl.validate(full_graph_triples(world, change), shacl_graph=world.shapes,
                                     inference="none", advanced=True,
                                     focus_nodes=[agreement.value])
    with_focus = {str(c) for c in results.objects(None, SH.sourceConstraintComponent)}
    if pyshacl.__version__ == "0.40.1":
        assert str(SH.QualifiedMinCountConstraintComponent) not in with_focus


def full_graph_triples(world: World, change):
    scratch = Store(None)
    scratch.raw.extend(world.quads)
    scratch.apply(change.removed, change.added)
    return scratch.to_rdflib()


def test_the_dependency_table_covers_every_shape(settings) -> None:
    """A new SHACL-SPARQL query or inverse path needs graph/write/incremental.py reviewed first."""
    assert coverage_problems(parse_dir(settings.shapes_dir)) == []


def test_an_unchanged_store_checks_nothing(world: World) -> None:
    staged = world.writer.stage(effective(world.store, [], []))
    assert staged.verdict.conforms and not staged.verdict.focus


def test_shapes_the_table_does_not_know_are_checked_on_the_whole_graph(world: World) -> None:
    """A new SHACL-SPARQL constraint: correct before fast, the check falls back to everything."""
    from graph.write.incremental import IncrementalValidator
    from graph.write.staging import Staged

    shapes = Graph()
    for triple in world.shapes:
        shapes.add(triple)
    shapes.parse(format="turtle", data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix cd: <{CD}> .
        <urn:test:LongPassage> a sh:NodeShape ; sh:targetClass cd:Passage ;
            sh:sparql [ a sh:SPARQLConstraint ; sh:message "Too far into the report." ;
                sh:select "SELECT $this WHERE {{ $this <{CD}lineStart> ?n FILTER (?n > 900) }}" ] .
    """)
    validator = IncrementalValidator(shapes, world.writer.hierarchy)
    assert validator.problems
    passage = world.passages[0]
    change = effective(world.store, [ox.Quad(passage, cd("lineStart"),
                                             lit("950", datatype=XSD + "integer"), BASE)],
                       world.base_quads(passage, cd("lineStart")))
    verdict = validator.check(Staged(world.store, change.added, change.removed), change,
                              effective(world.store, [], []))
    assert verdict.mode == "full" and not verdict.conforms
    assert any(f.message == "Too far into the report." for f in verdict.report.violations)
