"""The shapes a write is validated with: every shape that can reach a focus node, and only those.

graph/store/kept_shapes.py hands pyshacl only the shapes whose targets can include one of the
focus nodes (`use_shapes`), judged without evaluating the targets on the whole graph. These
tests hold that choice to pyshacl's own target evaluation (`Shape.focus_nodes`) on every example
graph of tests/shapes, node by node: a shape is left out exactly when the node is not among its
targets. And on a planted case (a reference to an undescribed resource, on the focus node or
beside it) the findings about the focus node are those of a run with every shape, whether the
shape that finds it is in or out. Each shape in is handed the focus nodes among its targets
only (several at once, as pyshacl finds them), so the nodes beside them are not validated.
tests/unit/test_incremental.py compares whole verdicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from graph.core.namespaces import CD, ID
from graph.store.kept_shapes import KeptShapes, _FocusedShape, _in_oxigraph
from graph.store.validate import Finding, validate
from graph.write.incremental import PreparedQueryGraph

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "tests" / "shapes").glob("*/*.ttl"))
TYPED_REFERENCE = URIRef("https://w3id.org/citydiplomacy/shapes#TypedReferenceShape")
AGREEMENT = URIRef(str(ID["agreement/kaohsiung-gdynia-sister-city-2025"]))


@pytest.fixture(scope="module")
def kept(shapes) -> KeptShapes:
    return KeptShapes(shapes)


def example_graph(path: Path, ontology: Graph) -> Graph:
    data = PreparedQueryGraph(bind_namespaces="core")
    for triple in ontology:
        data.add(triple)
    data.parse(path, format="turtle")
    return data


def key(finding: Finding) -> tuple:
    """What a finding says (an anonymous shape's rendering lists its triples in set order)."""
    return (finding.severity, finding.focus, finding.path or "", finding.value or "",
            finding.component, finding.message)


def about(findings: list[Finding], node: URIRef) -> list[tuple]:
    return sorted(key(f) for f in findings if f.focus == str(node))


def test_every_shape_with_targets_is_judged(kept: KeptShapes, shapes: Graph) -> None:
    judged = {t.shape for t in kept.targets}
    for predicate in (SH.targetClass, SH.targetSubjectsOf, SH.target):
        assert set(shapes.subjects(predicate, None)) <= judged
    assert not any(t.anything for t in kept.targets)  # every target here is judged exactly
    assert TYPED_REFERENCE in judged


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_shape_is_left_out_exactly_when_the_node_is_not_its_target(
        kept: KeptShapes, ontology: Graph, example: Path) -> None:
    data = example_graph(example, ontology)
    targets = {}
    for shape in kept.pyshacl.shapes:
        found = shape.focus_nodes(data)
        if found:
            targets[shape.node] = found
    nodes = {s for s in data.subjects() if isinstance(s, URIRef) and s.startswith(str(ID))}
    assert nodes
    for node in nodes:
        expected = {shape for shape, found in targets.items() if node in found}
        assert set(kept.reaching(data, [node])) == expected, node


def test_a_reference_beside_the_focus_leaves_its_shape_out_and_changes_nothing(
        kept: KeptShapes, shapes: Graph, ontology: Graph) -> None:
    data = example_graph(ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl",
                         ontology)
    gdynia = URIRef(str(ID["city/gdynia"]))
    data.add((gdynia, URIRef(str(CD["memberOf"])), URIRef(str(ID["body/never-described"]))))
    assert TYPED_REFERENCE not in kept.reaching(data, [AGREEMENT])
    assert TYPED_REFERENCE in kept.reaching(data, [gdynia])
    everything = validate(data, shapes)
    assert about(everything.findings, gdynia)  # the full run does find it, beside the focus
    chosen = kept.validate(data, [AGREEMENT])
    assert about(chosen.findings, AGREEMENT) == about(everything.findings, AGREEMENT)
    assert not about(chosen.findings, gdynia)  # not a focus node: not reported


def test_a_reference_from_the_focus_keeps_its_shape_and_is_reported(
        kept: KeptShapes, shapes: Graph, ontology: Graph) -> None:
    data = example_graph(ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl",
                         ontology)
    data.add((AGREEMENT, URIRef(str(CD["topic"])), URIRef(str(ID["topic/never-described"]))))
    assert TYPED_REFERENCE in kept.reaching(data, [AGREEMENT])
    chosen = kept.validate(data, [AGREEMENT])
    expected = about(validate(data, shapes).findings, AGREEMENT)
    assert about(chosen.findings, AGREEMENT) == expected
    assert any(f.shape == str(TYPED_REFERENCE) for f in chosen.violations)
    assert kept.validate(data, [AGREEMENT]).findings == chosen.findings  # kept state: same again


def test_a_node_no_shape_reaches_is_not_validated(kept: KeptShapes, ontology: Graph) -> None:
    data = example_graph(ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl",
                         ontology)
    nobody = URIRef("https://example.org/nobody")
    assert kept.reaching(data, [nobody]) == []
    assert kept.validate(data, [nobody]).findings == []


def test_a_graph_pyoxigraph_cannot_hold_is_judged_by_rdflib_alike(kept: KeptShapes,
                                                                  ontology: Graph) -> None:
    # The SPARQL targets' queries run in pyoxigraph on a copy of the data; a blank node label
    # it refuses (rdflib takes any) makes them run in rdflib instead, with the same choice.
    path = ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl"
    plain, odd = example_graph(path, ontology), example_graph(path, ontology)
    odd.add((BNode("not a label"), RDFS.comment, Literal("x")))
    with pytest.raises(ValueError):
        _in_oxigraph(odd)
    nodes = {s for s in plain.subjects() if isinstance(s, URIRef) and s.startswith(str(ID))}
    assert any(kept.reaching(plain, [node]) for node in nodes)
    for node in nodes:
        assert set(kept.reaching(odd, [node])) == set(kept.reaching(plain, [node])), node


def test_each_shape_is_judged_on_the_focus_nodes_at_once(kept: KeptShapes,
                                                          ontology: Graph) -> None:
    # Several focus nodes in one validation: each shape's share of them is exactly the nodes
    # among pyshacl's own targets for it.
    data = example_graph(ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl",
                         ontology)
    nodes = sorted(s for s in set(data.subjects())
                   if isinstance(s, URIRef) and s.startswith(str(ID)))
    targeted = kept.targeted(data, nodes)
    for shape in kept.pyshacl.shapes:
        if shape.node in targeted:
            assert set(targeted[shape.node]) == set(shape.focus_nodes(data)) & set(nodes)


def test_only_focus_nodes_are_validated(kept: KeptShapes, shapes: Graph, ontology: Graph,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The cities beside an agreement (here with an undescribed reference each, which a full
    # run reports) are among the shapes' targets on the graph, but a validation about the
    # agreement hands pyshacl the agreement alone, and finds what a full run finds about it.
    data = example_graph(ROOT / "tests/shapes/valid/sister-city-agreement-with-signatories.ttl",
                         ontology)
    beside = [URIRef(str(ID["city/gdynia"])), URIRef(str(ID["city/kaohsiung"]))]
    for city in beside:
        data.add((city, URIRef(str(CD["memberOf"])), URIRef(str(ID["body/never-described"]))))
    handed: list[set] = []
    original = _FocusedShape.focus_nodes

    def spied(self, data_graph, debug=False):
        found = original(self, data_graph, debug=debug)
        handed.append(set(found))
        return found

    monkeypatch.setattr(_FocusedShape, "focus_nodes", spied)
    chosen = kept.validate(data, [AGREEMENT])
    assert handed and set().union(*handed) == {AGREEMENT}
    assert about(chosen.findings, AGREEMENT) == about(validate(data, shapes).findings, AGREEMENT)
    handed.clear()
    everything = kept.validate(data)  # no focus: every target, as pyshacl finds them
    assert set(beside) <= set().union(*handed)
    assert all(about(everything.findings, city) for city in beside)
