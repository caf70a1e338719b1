"""SHACL validation of data graphs against the shapes in `shapes/`, with readable reports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyshacl
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import RDF, SH

from graph.core.namespaces import compact

SEVERITIES: dict[Node | None, str] = {SH.Violation: "Violation", SH.Warning: "Warning",
                                      SH.Info: "Info"}


@dataclass(frozen=True)
class Finding:
    """One validation result, in terms a data editor can act on."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    shape: str | None
    component: str
    message: str


@dataclass
class Report:
    """The outcome of a validation: conforms means no Violation (warnings do not block)."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "violations": len(self.violations),
                "warnings": len(self.warnings),
                "results": [asdict(f) for f in self.findings],
            },
            ensure_ascii=False,
            indent=2,
        )

    def to_text(self) -> str:
        lines = [
            f"Conforms: {'yes' if self.conforms else 'no'} "
            f"({len(self.violations)} violations, {len(self.warnings)} warnings)"
        ]
        for f in sorted(self.findings, key=lambda f: (f.severity != "Violation", f.focus)):
            where = compact(f.focus) + (f" {compact(f.path)}" if f.path else "")
            value = f" = {compact(f.value)}" if f.value else ""
            lines.append(f"[{f.severity}] {where}{value}: {f.message}")
            if f.shape:
                lines.append(f"    shape {compact(f.shape)} ({compact(f.component)})")
        return "\n".join(lines)


def parse_dir(directory: Path, graph: Graph | None = None) -> Graph:
    """Parse every Turtle file of a folder into one graph."""
    graph = graph if graph is not None else Graph()
    for path in sorted(directory.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def validate(data: Graph, shapes: Graph, ontology: Graph | None = None, *,
             inplace: bool = False) -> Report:
    """Validate `data` (with the ontology mixed in, so subclass targets and types resolve).

    `inplace` validates the graph object itself instead of a copy (for throwaway graphs).
    """
    _conforms, results, _text = pyshacl.validate(
        data_graph=data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        abort_on_first=False,
        inplace=inplace,
    )
    return Report(findings=list(_findings(results)))


def findings(results: Graph) -> list[Finding]:
    """The findings of a pyshacl report graph."""
    return list(_findings(results))


def _findings(results: Graph) -> Iterable[Finding]:
    # Only the report's top-level results: pyshacl also writes nested sh:detail results.
    for report in results.subjects(RDF.type, SH.ValidationReport):
        yield from (_finding(results, r) for r in results.objects(report, SH.result))


def _finding(results: Graph, result: Node) -> Finding:
    severity = results.value(result, SH.resultSeverity)
    return Finding(
        severity=SEVERITIES.get(severity, str(severity)),
        focus=_term(results, results.value(result, SH.focusNode)) or "",
        path=_term(results, results.value(result, SH.resultPath)),
        value=_term(results, results.value(result, SH.value)),
        shape=_term(results, results.value(result, SH.sourceShape)),
        component=_term(results, results.value(result, SH.sourceConstraintComponent)) or "",
        message=_message(results, result),
    )


def _message(results: Graph, result: Node) -> str:
    messages = list(results.objects(result, SH.resultMessage))
    english = [m for m in messages if isinstance(m, Literal) and m.language in (None, "en")]
    chosen = english or messages
    return str(chosen[0]) if chosen else "constraint not met"


def _term(graph: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        # A complex path or an anonymous shape: show it as Turtle-ish text.
        return " ".join(f"{p.n3()} {o.n3()}" for p, o in graph.predicate_objects(node)) or "[]"
    if isinstance(node, URIRef | Literal):
        return str(node)
    return str(node)


def validate_files(paths: list[Path], settings) -> Report:
    """Load files or folders with the ontology and derived shortcuts, and validate the union."""
    from graph.store.embedded import Store
    from graph.store.load import build_store  # local: load depends on store, not on validation

    store = build_store(settings, paths, Store(None))
    return validate(store.to_rdflib(), parse_dir(settings.shapes_dir))
