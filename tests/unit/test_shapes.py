"""Data-driven tests of the SHACL shapes in `shapes/`.

Every file in `tests/shapes/valid/` must conform without any finding. Every file in
`tests/shapes/invalid/` is an otherwise valid graph broken in one way; its header says
what the validator must report:

    #+ expect-focus: <full IRI of the focus node>
    #+ expect-path: <full IRI of the result path>          (optional)
    #+ expect-component: <constraint component local name>
    #+ expect-severity: Violation | Warning

and every finding must be at that focus node, so the example fails for that reason alone.

The ontology (with the vocabularies) is passed as the ontology graph and also merged into
each data graph, as the real data is validated: pyshacl copies only RDFS/OWL axioms from
the ontology graph, not the SKOS concepts and roles that the data refers to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Namespace
from rdflib.namespace import RDF, RDFS, SH

from graph.store.validate import Finding, Report, parse_dir, validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "shapes"
VALID = sorted((EXAMPLES / "valid").glob("*.ttl"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.ttl"))

CDS = Namespace("https://w3id.org/citydiplomacy/shapes#")
HEADER = re.compile(r"^#\+\s*expect-(focus|path|component|severity):\s*(\S+)\s*$")


@pytest.fixture(scope="session")
def ontology() -> Graph:
    return parse_dir(ROOT / "ontology")


@pytest.fixture(scope="session")
def shapes() -> Graph:
    return parse_dir(ROOT / "shapes")


def run(example: Path, shapes: Graph, ontology: Graph) -> Report:
    data = Graph()
    for triple in ontology:
        data.add(triple)
    data.parse(example, format="turtle")
    return validate(data, shapes, ontology)


def expectations(example: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in example.read_text(encoding="utf-8").splitlines():
        match = HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def local_name(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def describe(findings: list[Finding]) -> str:
    return (
        "\n".join(
            f"  [{f.severity}] {f.focus} {f.path or '-'} {local_name(f.component)}: {f.message}"
            for f in findings
        )
        or "  (no findings)"
    )


# ---------------------------------------------------------------- the examples


def test_there_are_enough_examples():
    assert len(VALID) >= 5
    assert len(INVALID) >= 15


def test_ontology_and_vocabularies_alone_conform(shapes: Graph, ontology: Graph):
    report = validate(Graph() + ontology, shapes, ontology)
    assert not report.findings, describe(report.findings)


@pytest.mark.parametrize("example", VALID, ids=[p.stem for p in VALID])
def test_valid_example_conforms(example: Path, shapes: Graph, ontology: Graph):
    report = run(example, shapes, ontology)
    assert report.conforms, f"{example.name} should conform:\n{describe(report.findings)}"
    assert not report.findings, f"{example.name} should be clean:\n{describe(report.findings)}"


@pytest.mark.parametrize("example", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_example_is_reported(example: Path, shapes: Graph, ontology: Graph):
    expected = expectations(example)
    assert {"focus", "component", "severity"} <= expected.keys(), f"{example.name}: header"
    assert expected["severity"] in ("Violation", "Warning")

    report = run(example, shapes, ontology)
    found = describe(report.findings)
    matching = [
        f
        for f in report.findings
        if f.focus == expected["focus"]
        and local_name(f.component) == expected["component"]
        and f.severity == expected["severity"]
        and ("path" not in expected or f.path == expected["path"])
    ]
    assert matching, f"{example.name}: expected {expected}, got:\n{found}"
    assert all(f.message and f.message != "constraint not met" for f in matching)

    if expected["severity"] == "Violation":
        assert not report.conforms
    else:
        assert report.conforms, f"{example.name} has only a warning and should conform:\n{found}"

    elsewhere = [f for f in report.findings if f.focus != expected["focus"]]
    assert not elsewhere, f"{example.name} should fail at {expected['focus']} only:\n{found}"


# ---------------------------------------------------------------- the shapes themselves

# Parameters that make a shape a constraint (rather than a container of other shapes).
CONSTRAINT_PARAMETERS = {
    SH[name]
    for name in (
        "class datatype nodeKind minCount maxCount minExclusive minInclusive maxExclusive "
        "maxInclusive minLength maxLength pattern languageIn uniqueLang equals disjoint "
        "lessThan lessThanOrEquals not and or xone node qualifiedValueShape hasValue in closed"
    ).split()
}


def top_level_shapes(shapes: Graph) -> set:
    """Shapes whose results reach the report: targeted node shapes and their property shapes."""
    targeted = {
        s
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
        for s in shapes.subjects(p, None)
    }
    return targeted | {o for s in targeted for o in shapes.objects(s, SH.property)}


def test_every_named_shape_has_a_label(shapes: Graph):
    named = {
        s
        for t in (SH.NodeShape, SH.PropertyShape, SH.ConstraintComponent)
        for s in shapes.subjects(RDF.type, t)
    } | {s for s in top_level_shapes(shapes) if not isinstance(s, BNode)}
    unlabelled = sorted(str(s) for s in named if (s, RDFS.label, None) not in shapes)
    assert not unlabelled, f"shapes without rdfs:label: {unlabelled}"


def test_every_constraint_has_a_message(shapes: Graph):
    missing = []
    for shape in top_level_shapes(shapes):
        has_constraint = any((shape, p, None) in shapes for p in CONSTRAINT_PARAMETERS)
        custom = (shape, CDS.inScheme, None) in shapes
        if (has_constraint or custom) and (shape, SH.message, None) not in shapes:
            missing.append(shapes.value(shape, SH.path) or shape)
    for sparql in shapes.objects(None, SH.sparql):
        if (sparql, SH.message, None) not in shapes:
            missing.append(sparql)
    assert not missing, f"constraints without sh:message: {missing}"


def test_every_invalid_example_says_what_is_wrong():
    """Invalid examples say in their first line what is wrong, for the reader."""
    for example in INVALID:
        first = example.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and not first.startswith("#+"), example.name
