"""The checks of the line-by-line audit of the report graph (issue 15), kept in the suite.

The shapes say whether the data is well formed; they cannot say whether the report says it. These
checks compare the two Turtle files with the report's text itself:

1. every `cd:Passage` quote is its source line, character for character;
2. every triple of the report's graph is derived from a cited passage (its subject cites one, or the
   subject is an actor that a citing statement names), or is listed below with its reason;
3. every triple of `reference.ttl` has a `cd:Source`;
4. every `@zh-Hant` name of an actor is the report's own, or is listed as composed, with the reason.

The allow-lists are the reviewed exceptions, each with why it is not invented. They are data of the
audit, not of the graph, so they live here next to the checks that use them; a stale entry (one that
no longer matches the data) fails too, so the lists cannot silently outgrow the graph. The files are
parsed on their own with rdflib (not the store, which merges the graphs), because the question is
which file says what.
"""

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from graph.core.namespaces import CD, GRAPH, ID, ORG

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SCHEMA = rdflib.Namespace("https://schema.org/")
DATA = Path(__file__).resolve().parents[2] / "graph" / "data"
LINES = (DATA / "sources" / "kaohsiung-report.txt").read_text(encoding="utf-8").splitlines()
TEXT = "\n".join(LINES)
REPORT_NODE = ID["report/kaohsiung-administration-international-affairs-2026"]

# --- 1. Passages ---------------------------------------------------------------------------------

# Lines that open a top-level section of the report and so are their own cd:section
# (graph/data/README.md, "Passages"). Any other heading line gets the heading of the larger section
# above it.
OWN_SECTION = {
    22: "the overview of the city's large international events (城市大型國際活動)",
    269: "the slide of the 2026 Sunlight Island Festival, which stands under no larger heading",
    283: "the slide of the 2026 Kaohsiung Smart City Expo, which stands under no larger heading",
}

# --- 2. Triples of the report's graph ----------------------------------------------------------

# What describing an actor named by a citing statement may say without a passage of its own.
DESCRIPTIVE = {
    RDF.type: "the kind of actor, read from how the report names it (市, 縣, 大學, 辦事處, …)",
    RDFS.label:
        "names: @zh-Hant by check 4, a person's @en name by PERSON_NAMES, others translate it",
    SKOS.altLabel: "variants and abbreviations the report uses (高雄, PPNT, FHD, …)",
    SKOS.editorialNote: "says what the report does not give (a Latin-script name, a first name)",
    RDFS.comment: "restates the report's description of the actor",
    CD.country: "given by the report (波蘭：格丁尼亞市) or by the name or location (README)",
    CD.schoolLevel: "read from the school's name (國小, 國中, 高中, 高工; README 'School levels')",
    CD.groupSize: "the number the report gives (四所, 六座, 3 位, 23 位)",
    CD.memberClass: "the kind of member the report counts (大學, 城市, 位)",
    CD.represents: "an office speaks for the country in its name (美國在台協會, 波蘭台北辦事處)",
    ORG.subOrganizationOf: "a branch or team named with its parent (高雄分處, 青森大學棒球隊)",
}
# Predicates that place an actor: the report must say where, by the name or on a line.
WHERE = (CD.locatedIn, CD.partOf)
AREA_SUFFIXES = ("市", "縣", "州", "郡")

# (line, predicate, place, subject) -> reason, for places the report gives on a line rather than in
# the actor's name. The line must name the subject and, on it or in its section, the place.
STATED_ON_A_LINE = {
    (line, predicate, place, subject): reason
    for line, predicate, place, subjects, reason in [
        (72, "locatedIn", "city/kaohsiung", ["school/kaohsiung-renwu-senior-high"],
         "Kaohsiung's side of the sister-school tie, under 高雄市×波蘭 卡托維茲市"),
        (92, "locatedIn", "city/kaohsiung", ["school/kaohsiung-hsin-hsing-senior-high"],
         "Kaohsiung's side of the letter of intent, under 高雄市×波蘭格丁尼亞市"),
        (100, "locatedIn", "city/kaohsiung", [
            "school/kaohsiung-linyuan-senior-high", "school/kaohsiung-cianjhen-senior-high",
            "school/kaohsiung-ruei-siang-senior-high",
            "school/kaohsiung-chung-cheng-industrial-vocational-high"],
         "the five Kaohsiung schools of 兩市 5 校, under 高雄市×波蘭格丁尼亞市"),
        (110, "locatedIn", "city/kaohsiung", [
            "school/kaohsiung-guyan-elementary", "school/kaohsiung-gushan-elementary",
            "school/kaohsiung-daren-junior-high", "school/kaohsiung-qianjin-junior-high",
            "school/kaohsiung-wufu-junior-high", "school/kaohsiung-fengshan-senior-high"],
         "the schools the Aomori team went to on its visit to Kaohsiung (訪高…前往)"),
        (111, "locatedIn", "city/kaohsiung", ["school/kao-yuan-vocational-high"],
         "Kaohsiung's side of the friendly games, under 高雄市×日本 青森縣×陸奧市"),
        (263, "locatedIn", "city/kaohsiung", ["school/kaohsiung-shoushan-junior-high"],
         "MAXONS performed in Kaohsiung and went to 壽山國中"),
        (138, "locatedIn", "city/kaohsiung", ["university/nsysu"],
         "the Kaohsiung party of the six-party memorandum (高雄市 × … × 國立中山大學)"),
        (178, "locatedIn", "city/kaohsiung", ["university/wenzao"],
         "works with the Kaohsiung City Government (高市府) for Kaohsiung's youth"),
        (116, "locatedIn", "city/mutsu", [
            "school/mutsu-tanabu-junior-high", "school/mutsu-sekine-junior-high",
            "school/mutsu-chikagawa-junior-high", "school/mutsu-ominato-junior-high",
            "school/mutsu-odaira-junior-high", "school/mutsu-ohata-junior-high",
            "school/mutsu-wakinosawa-junior-high"],
         "the nine Mutsu schools (陸奧市 … 共 9 所中學); 陸奧中學 says it in its name"),
        (115, "locatedIn", "city/mutsu", ["school/mutsu-kawauchi-junior-high"], "陸奧市川內中學"),
        (257, "locatedIn", "city/kumamoto-city", ["team/kumamoto-castle-omotenashi-bushotai"],
         "熊本市「熊本城迎賓武將隊」: Kumamoto City's team"),
        (155, "locatedIn", "city/dresden", [
            "park/dresden-north-technology-centre", "organization/silicon-saxony"],
         "visited on the trip to Dresden (訪問德勒斯登 … 亦拜會北部科技中心與薩克森矽谷代表)"),
        (301, "locatedIn", "city/gdynia", ["park/ppnt"],
         "Gdynia's own park, which Gdynia promotes at its booth (格丁尼亞市…推廣)"),
        (113, "partOf", "prefecture/aomori", ["city/mutsu"], "青森縣陸奧市"),
        (275, "partOf", "prefecture/niigata", ["city/sado"], "新潟縣佐渡市"),
        (275, "partOf", "country/palau", ["state/koror"], "帛琉科羅州"),
        (275, "partOf", "country/united-states", ["territory/guam"],
         "美國關島總督 (also l38, l44)"),
    ]
    for subject in subjects
}

# Persons whose @en label is not in the report, with why it is not an invention.
PERSON_NAMES = {
    "chen-chi-mai": "romanisation of 陳其邁 (Taiwanese official)",
    "lo-ta-sheng": "romanisation of 羅達生 (Taiwanese official)",
    "lin-chin-rong": "romanisation of 林欽榮 (Taiwanese official)",
    "chang-yen-ching": "romanisation of 張硯卿 (Taiwanese official)",
    "kimura-takashi": "romanisation of 木村敬 (Japanese, family name first)",
    "takeuchi-nobuyoshi": "romanisation of 竹內信義 (Japanese, family name first)",
    "onishi-kazufumi": "romanisation of 大西一史 (Japanese, family name first)",
    "fukuda-tomikazu": "romanisation of 福田富一 (Japanese, family name first)",
    "augustyniak": "the Polish surname the report transliterates as 奧古斯蒂尼亞克",
    "katowice-council-speaker": "named by role (議長)",
    "poznan-mayor": "named by role (市長)",
    "gdansk-mayor": "named by role (市長)",
    "koror-governor": "named by role (州長)",
    "dresden-economic-development-director": "named by role (經發處長)",
    "burnaby-acting-mayor": "named by role (代理市長)",
    "nanaimo-acting-mayor": "named by role (代理市長)",
    "ai-shih-fu": "the report gives only 艾史福: the label names the role",
    "tsui-jui-hsia": "the report gives only 崔瑞霞: the label names the role",
    "peng-ko-jung": "the report gives only 彭科蓉: the label names the role",
    "chen-tsan-jung": "the report gives only 陳燦榮: the label names the role",
    "chang-tzu-lin": "the report gives only 張子霖: the label names the role",
}

# Actors that no citing statement names, with why they are in the graph all the same.
UNLINKED = {
    "country/vietnam":
        "named on l242 among the cultures the Southern Culture Carnival blended; not a participant",
    "country/malaysia":
        "named on l242 among the cultures the Southern Culture Carnival blended; not a participant",
}

# Subjects that describe the source itself rather than what it says.
ABOUT_THE_SOURCE = {
    str(GRAPH["kaohsiung-report"]): "the named graph: its label and its source, the report",
    str(
        REPORT_NODE
    ): "the report: its title (l5), language, who issued it, its reporter (l7), its session (l3)",
}

# --- 4. Chinese names ----------------------------------------------------------------------------

COMPOSED = {
    "agency/guam-economic-development-authority":
        "l46 writes 關島觀光局、經濟發展局: 關島 applies to both",
    "agency/kaohsiung-department-of-administration-and-international-affairs":
        "行政暨國際處 (l5) of the 高雄市政府",
    "city/taipei": "the report writes 台北 (l220, l243); 臺北市 is the city's standard name",
    "council/dresden-city-council": "the body of the 市議員 of l158 (德勒斯登市長及市議員)",
    "council/kaohsiung-city-council": "the council of the 定期大會 of l3",
    "council/katowice-city-council": "the council of the 議長 of l76 and l298",
    "council/san-antonio-city-council": "the body of the 市議員 of l169",
    "group/dresden-three-deputy-mayors": "l155: 德勒斯登 … 3 位副市長",
    "group/ukraine-six-cities": "l287: 烏克蘭六座城市組成聯合訪團",
    "person/burnaby-acting-mayor": "l287: 本拿比市與納奈莫市代理市長",
    "person/katowice-council-speaker": "l76 and l298: the 議長 of 卡托維茲市",
    "person/poznan-mayor": "l299: 波茲南市由市長",
    "programme/iurc": "l20: 歐盟「國際城市夥伴計畫(IURC)」 without the quotation marks",
    "school/gdynia-administration-economics-school-complex":
        "l100: 格丁尼亞…行政暨經濟、冷凍暨電子學校群",
    "school/gdynia-refrigeration-electronics-school-complex":
        "l100: 格丁尼亞…行政暨經濟、冷凍暨電子學校群",
    "school/gdynia-no2-high": "l100: 格丁尼亞第五、第二、第三中學",
    "school/gdynia-no3-high": "l100: 格丁尼亞第五、第二、第三中學",
    "school/gdynia-no5-high": "l100: 格丁尼亞第五、第二、第三中學",
    "state/hawaii": "the state of the 夏威夷旅遊局 (l275); the report does not name it on its own",
    "university/national-university-of-kaohsiung":
        "full name of 高雄大學 (l111), its skos:altLabel",
    "university/nkust": "full name of 高雄科技大學 (l184), its skos:altLabel",
}


def slug(node) -> str:
    return str(node).removeprefix(str(ID))


def short(predicate) -> str:
    return str(predicate).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def report() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "kaohsiung-report.ttl")


@pytest.fixture(scope="module")
def reference() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "reference.ttl")


@pytest.fixture(scope="module")
def actors(report, ontology) -> set:
    classes = set(ontology.transitive_subjects(RDFS.subClassOf, CD.Actor))
    return {s for c in classes for s in report.subjects(RDF.type, c)}


@pytest.fixture(scope="module")
def areas(report, ontology) -> set:
    classes = set(ontology.transitive_subjects(RDFS.subClassOf, CD.AdministrativeArea))
    return {s for c in classes for s in report.subjects(RDF.type, c)}


def zh_names(graph: rdflib.Graph, node) -> set[str]:
    return {
        str(v)
        for p in (RDFS.label, SKOS.altLabel)
        for v in graph.objects(node, p)
        if getattr(v, "language", None) == "zh-Hant"
    }


# --- 1 -------------------------------------------------------------------------------------------


def test_every_passage_quote_is_its_source_line(report):
    passages = set(report.subjects(RDF.type, CD.Passage))
    assert len(passages) >= 114
    for passage in passages:
        line = int(report.value(passage, CD.lineStart))
        assert int(report.value(passage, CD.lineEnd)) == line, passage
        assert str(passage) == str(ID[f"passage/kaohsiung-report-l{line}"])
        quote = report.value(passage, CD.quote)
        assert quote.language == "zh-Hant", passage
        assert str(quote) == LINES[line - 1], f"l{line}: the quote is not the line"
        assert report.value(passage, PROV.wasQuotedFrom) == REPORT_NODE


def test_every_section_is_a_heading_above_the_line(report):
    passages = set(report.subjects(RDF.type, CD.Passage))
    own = set()
    for passage in passages:
        line = int(report.value(passage, CD.lineStart))
        section = str(report.value(passage, CD.section))
        heading_lines = [n for n, text in enumerate(LINES, 1) if text == section]
        assert heading_lines, f"l{line}: section {section!r} is not a line of the report"
        if line == 3:  # the session on the title page stands under the report's title (l5)
            assert heading_lines == [5]
            continue
        assert min(heading_lines) <= line, f"l{line}: its section comes after it"
        if section == LINES[line - 1]:
            own.add(line)
    assert own == set(OWN_SECTION), "only the top-level headings are their own section"


# --- 2 -------------------------------------------------------------------------------------------


def test_every_triple_of_the_report_graph_is_derived_or_listed(report, actors, areas):
    passages = set(report.subjects(RDF.type, CD.Passage))
    citing = {s for s, o in report.subject_objects(PROV.wasDerivedFrom) if o in passages}
    # Actors that a citing statement names, then the places and parents those actors have.
    linked = {
        o
        for s in citing
        for p, o in report.predicate_objects(s)
        if o in actors and p != PROV.wasDerivedFrom
    }
    frontier = set(linked)
    while frontier:
        step = {
            o
            for s in frontier
            for p in (*WHERE, CD.country, CD.represents, ORG.subOrganizationOf)
            for o in report.objects(s, p)
        } - linked
        linked |= step
        frontier = step
    names = {a: zh_names(report, a) for a in actors}
    stripped: dict[str, set] = {}
    for area in areas:
        for name in names[area]:
            if name.endswith(AREA_SUFFIXES):
                stripped.setdefault(name[:-1], set()).add(area)
    place_names = {
        a: names[a] | {n for n, owners in stripped.items() if owners == {a}} for a in areas
    }
    sections = {
        int(report.value(p, CD.lineStart)): str(report.value(p, CD.section)) for p in passages
    }

    problems, used = [], set()
    for s, p, o in report:
        if s in citing or s in passages or str(s) in ABOUT_THE_SOURCE:
            continue
        if s not in linked:
            if slug(s) in UNLINKED:
                continue
            problems.append(f"{slug(s)}: no statement that cites a passage names it")
            continue
        if p in DESCRIPTIVE:
            continue
        if p in WHERE:
            if any(n in subject for n in place_names.get(o, ()) for subject in names[s]):
                continue  # the actor's own name says where it is (格丁尼亞港, 美國明德大學)
            listed = [k for k in STATED_ON_A_LINE if k[1:] == (short(p), slug(o), slug(s))]
            if listed:
                key = listed[0]
                used.add(key)
                line = key[0]
                where = LINES[line - 1] + sections.get(line, "")
                if (
                    line in sections
                    and any(n in LINES[line - 1] for n in names[s])
                    and any(n in where for n in place_names[o])
                ):
                    continue
                problems.append(f"{key}: l{line} is not cited or does not name both")
                continue
        problems.append(
            f"{slug(s)} {short(p)} {slug(o) if isinstance(o, rdflib.URIRef) else o}: not stated"
        )
    assert not problems, "\n".join(problems)
    assert used == set(STATED_ON_A_LINE), f"stale entries: {set(STATED_ON_A_LINE) - used}"
    assert {slug(a) for a in actors} - {slug(a) for a in linked} == set(UNLINKED)


def test_every_persons_english_name_is_the_reports_or_listed(report, actors):
    stated, used = [], set()
    for person in report.subjects(RDF.type, CD.Person):
        for label in report.objects(person, RDFS.label):
            if label.language != "en" or str(label) in TEXT:
                continue
            key = slug(person).removeprefix("person/")
            used.add(key)
            if key not in PERSON_NAMES:
                stated.append(f"{key}: {label}")
    assert not stated, "English names the report does not give: " + ", ".join(stated)
    assert used == set(PERSON_NAMES), f"stale entries: {set(PERSON_NAMES) - used}"


def test_identifications_live_only_in_the_reference_graph(report, reference):
    identified = {
        str(label)
        for s, label in reference.subject_objects(RDFS.label)
        if (s, RDF.type, CD.Person) in report and label.language == "en"
    }
    assert identified == {"Lou Leon Guerrero", "Lutz Güllner", "Gina Ortiz Jones"}
    for s, p, o in report:
        if isinstance(o, rdflib.Literal):
            assert not any(name in str(o) for name in identified), (s, p, str(o))


# --- 3 -------------------------------------------------------------------------------------------


def test_every_triple_of_the_reference_graph_has_a_source(reference):
    graph = GRAPH["reference"]
    sources = set(reference.subjects(RDF.type, CD.Source))
    assert sources
    for source in sources:
        languages = {v.language for v in reference.objects(source, RDFS.label)}
        assert {"en", "zh-Hant"} <= languages, source
        assert reference.value(source, RDFS.comment), f"{source}: say what it gives"
    partitions = set(reference.objects(graph, VOID.propertyPartition))
    by_property = {}
    for partition in partitions:
        source = reference.value(partition, DCTERMS.source)
        assert source in sources, partition
        by_property[reference.value(partition, VOID.property)] = source
    about_sources = {graph} | sources | partitions

    unsourced, cited = [], set(by_property.values())
    for s, p, o in reference:
        if s in about_sources:
            continue
        if p == DCTERMS.source:
            assert o in sources, f"{s}: dcterms:source {o} is not a cd:Source"
            continue
        own = set(reference.objects(s, DCTERMS.source)) & sources
        cited |= own
        if not own and p not in by_property:
            unsourced.append(f"{slug(s)} {short(p)} {o}")
    assert not unsourced, "facts without a source: " + ", ".join(unsourced)
    assert set(reference.objects(graph, DCTERMS.source)) == cited, "the graph lists its sources"


def test_the_reference_graph_adds_only_what_the_report_does_not_state(report, reference):
    for s, p, o in reference:
        assert (s, p, o) not in report, (s, p, o)
        # Changesets name every node (`citydip validate --changes`): no blank nodes.
        assert not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode), (s, p, o)


# --- 4 -------------------------------------------------------------------------------------------


def test_every_chinese_name_of_an_actor_is_the_reports_or_listed_as_composed(report, actors):
    composed, used = [], set()
    for actor in actors:
        for label in report.objects(actor, RDFS.label):
            if label.language != "zh-Hant" or str(label) in TEXT:
                continue
            used.add(slug(actor))
            if slug(actor) not in COMPOSED:
                composed.append(f"{slug(actor)}: {label}")
        for alt in report.objects(actor, SKOS.altLabel):
            if alt.language == "zh-Hant":
                assert str(alt) in TEXT, f"{slug(actor)}: variant {alt} is not the report's"
    assert not composed, "Chinese names not in the report: " + ", ".join(composed)
    assert used == set(COMPOSED), f"stale entries: {set(COMPOSED) - used}"


# --- the corrections themselves ------------------------------------------------------------------


def test_the_audit_corrections_hold(report, reference):
    carnival = ID["event/2025-southern-culture-carnival"]
    assert set(report.objects(carnival, CD.participant)) == {
        ID[s]
        for s in (
            "city/kaohsiung",
            "office/indonesian-economic-trade-office-taipei",
            "person/ai-shih-fu",
            "office/meco-kaohsiung",
            "person/tsui-jui-hsia",
            "office/teto-kaohsiung-labour-office",
            "person/chen-tsan-jung",
        )
    }
    assert "等駐台代表" in str(report.value(carnival, RDFS.comment))
    gdynia = ID["agreement/kaohsiung-gdynia-sister-city-2025"]
    ceremony = report.value(gdynia, CD.signedAt)
    assert (ceremony, RDF.type, CD.SigningCeremony) in report
    six = ID["agreement/six-party-semiconductor-ecosystem-global-talent-mou"]
    assert (six, CD.topic, ID["topic/silicon-photonics"]) in report
    assert ID["passage/kaohsiung-report-l144"] in set(report.objects(six, PROV.wasDerivedFrom))
    booth = ID["event/2026-gdynia-booth-smart-city-expo"]
    assert report.value(booth, PROV.wasDerivedFrom) == ID["passage/kaohsiung-report-l301"]
    assert report.value(booth, CD.partOfEvent) == ID["event/2026-kaohsiung-smart-city-expo"]
    assert (ID["territory/guam"], CD.partOf, ID["country/united-states"]) in report
    assert ID["state/vermont"] not in set(report.subjects()) | set(reference.subjects())
    # Coordinates are the seat of government (Phoenix, Salem, Honolulu, Tucson, Hagåtña).
    seats = {
        "state/arizona": 33.4484,
        "state/oregon": 44.9429,
        "state/hawaii": 21.3069,
        "county/pima": 32.2226,
        "territory/guam": 13.4757,
    }
    for area, lat in seats.items():
        assert (
            float(
                reference.value(
                    ID[area], rdflib.URIRef("http://www.w3.org/2003/01/geo/wgs84_pos#lat")
                )
            )
            == lat
        ), area
    assert (ID["place/gdynia-gate-to-the-world"], RDF.type, SCHEMA.Place) in report
