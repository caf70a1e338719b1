"""Incremental SHACL validation of one change: validate what the change can affect, nothing else.

A full pyshacl run costs seconds per ten thousand triples, so a change is checked on a small
in-memory graph cut out of the staged store (`graph.write.staging.Staged`):

1. **Focus nodes** — the nodes whose validation result may differ after the change. For a node
   `y`, the shapes read `y`'s own triples, and (the dependency table below) a few facts about
   other nodes. So `y` is a focus node if the change touches
   - a triple of `y` (`y` is a subject), or a triple pointing at `y` through a predicate whose
     subject `y`'s shapes read: `^org:member` (a person's roles) and the symmetric shortcuts;
   - a fact about a node `y` points at that `y`'s shapes read (`VALUE_FACTS`: its type for
     sh:class and untyped references, `cd:memberClass` for sister-school parties,
     `skos:inScheme` for controlled values, `cd:languageCode` for native labels): then every node
     linking to it is a focus node;
   - a membership of one of `y`'s signatories, or a `cd:locatedIn|org:subOrganizationOf|cd:partOf`
     link on the way from such a membership's organization to `y`'s parties (the signatory check).
   Links are followed in the store before *and* after the change. Other objects of changed
   triples are not focus nodes: no shape reads a node's incoming links but those two, so their
   results cannot change (which keeps a hub city out of the check when an agreement names it).
2. **Extraction** — each focus node's triples, the facts above about the nodes it points at, its
   inverse `org:member` links, its signatories' memberships and their organization chains, and
   the class hierarchy: exactly what the shapes read for the focus nodes, so pyshacl reaches the
   same result for them as on the whole graph.
3. **Validation** — pyshacl runs on that graph *without* `focus_nodes` (pyshacl 0.40.1 drops
   violations found in nested shapes — `sh:or`, `sh:node`, `sh:qualifiedValueShape` — when
   `focus_nodes` is given; `tests/unit/test_incremental.py` keeps that case), and only results about
   focus nodes are kept (the other extracted nodes are incomplete there). It runs with the
   shapes parsed once (`graph.store.kept_shapes`) and only with those whose targets can reach a
   focus node (`use_shapes`): the others could only report about nodes whose results are
   dropped, and evaluating their targets was most of a small validation's time (three times
   less CPU per write, docs/benchmarks.md). Nodes outside the focus
   set keep their earlier result, so if the store conformed before, the change conforms iff no
   kept result is a violation. (A violation already in the store is reported, and blocks, only
   when a change touches its node.)

The shortcut triples that a change derives (`graph.write.derived`) are symmetric by construction and
join two parties of a partnership that is itself a focus node (its shape requires typed actors as
parties), so they cannot add a violation when that partnership conforms: their endpoints (often hub
cities with hundreds of partners) are left out of the first check, and added only to explain a
rejection exactly. `tests/unit/test_incremental.py` compares the verdict and the violations with a
full
pyshacl run over the whole resulting graph on random valid and invalid changes.

What the shapes read is written down here by hand, with a fingerprint of every SHACL-SPARQL query
it was worked out for; a shape this module does not know (a new query, an inverse path, a nested
shape reading another property, object or node targets) switches to validating the whole staged
graph, and a test fails until the table is updated.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from graph.core.namespaces import CD, ORG
from graph.core.terms import RDF_TYPE, rdflib_term
from graph.store.kept_shapes import KeptShapes
from graph.store.validate import Report, validate
from graph.write.changes import ChangeError, Changeset
from graph.write.staging import Staged
from graph.write.validation_process import ValidationProcess, ValidationTimeout, wire_triples

log = logging.getLogger(__name__)


def _nn(iri: object) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


ORG_MEMBER, ORG_ORGANIZATION = _nn(ORG.member), _nn(ORG.organization)
SIGNATORY = _nn(CD.signatory)
CHAIN = (_nn(CD.locatedIn), _nn(ORG.subOrganizationOf), _nn(CD.partOf))
SHORTCUT_PREDICATES = tuple(_nn(CD[p]) for p in
                            ("partnerOf", "sisterCityOf", "friendshipCityOf", "sisterSchoolOf"))

# --- the dependency table: what the shapes read beyond a focus node's own triples -------------

VALUE_FACTS = (RDF_TYPE, _nn(CD.memberClass),
               _nn("http://www.w3.org/2004/02/skos/core#inScheme"), _nn(CD.languageCode))
"""Facts about a node that the shapes of the nodes pointing at it read."""
INCOMING_READ = (ORG_MEMBER, *SHORTCUT_PREDICATES)
"""Predicates whose subject the shapes of the object read (^org:member; `?value ?path $this`)."""
MEMBERSHIP_FACTS = (RDF_TYPE, ORG_MEMBER, ORG_ORGANIZATION)
"""What the signatory check reads of a signatory's memberships (plus CHAIN from the body)."""

KNOWN_QUERIES = {
    "2e18c05a9256": "ActorNativeLabelShape target: own types, country, labels; country's code",
    "2568c2f64c98": "ActorNativeLabelShape: own country and labels; the country's languageCode",
    "97f22f865532": "AreaCoordinatesShape target: own types and the class hierarchy",
    "e2bfb63d82a2": "CountryShape: own cd:country",
    "05374b3b7816": "AgreementShape: own cd:signedOn and cd:dateNotStated",
    "dcf154ecc34d": "AgreementShape: own cd:signedOn and cd:dateNotStated",
    "03ce99cecaa7": "AgreementPartyCountShape: own cd:partyCountStated and cd:party",
    "ef88c15bc545": "AgreementSignatoryShape: signatories' memberships, their bodies' CHAIN",
    "b1d5638c33d9": "InSchemeConstraintComponent: the value's skos:inScheme",
    "0ae811079e62": "VisitorStatisticsShape: own period",
    "ecd652b7da7f": "TypedReferenceShape target: own links; the linked node's rdf:type",
    "cf139effa60f": "TypedReferenceShape: own links; the linked node's rdf:type",
    "b1c37aaa26e1": "SymmetricShortcutShape: own shortcuts; the reverse shortcut",
}
"""Fingerprints (sha256 of the whitespace-normalised sh:select) of the queries analysed above."""
NESTED = (SH["or"], SH["and"], SH.xone, SH["not"], SH.node, SH.qualifiedValueShape)


def query_fingerprint(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def coverage_problems(shapes: Graph) -> list[str]:
    """What in the shapes the dependency table does not account for (empty: all of it)."""
    problems = []
    for text in shapes.objects(None, SH.select):
        if query_fingerprint(str(text)) not in KNOWN_QUERIES:
            problems.append(f"unknown SHACL-SPARQL query {query_fingerprint(str(text))}: "
                            f"{' '.join(str(text).split())[:80]}…")
    for inverse in shapes.objects(None, SH.inversePath):
        if _nn(inverse) not in INCOMING_READ:
            problems.append(f"inverse path ^{inverse} is not in INCOMING_READ")
    for path in shapes.objects(None, SH.path):
        if isinstance(path, BNode) and (path, SH.inversePath, None) not in shapes:
            problems.append("a complex property path (sequence, alternative, closure)")
    for predicate in (SH.targetObjectsOf, SH.targetNode):
        if (None, predicate, None) in shapes:
            problems.append(f"{predicate} targets are not handled")
    problems += _nested_problems(shapes)
    return problems


DEEPER = (SH["class"], SH.node, SH.property, SH.qualifiedValueShape, SH["or"], SH["and"],
          SH.xone, SH["not"], SH.sparql)
"""What a shape applied to a value node may not hold: it would read beyond the value's facts."""


def _nested_problems(shapes: Graph) -> list[str]:
    """Shapes nested in a property shape (sh:or, sh:node, …) check the *values*: they may read
    the values' VALUE_FACTS, through property shapes that themselves read nothing further."""
    problems = []
    for parent, predicate, nested in shapes.triples((None, None, None)):
        if predicate not in NESTED or (parent, SH.path, None) not in shapes:
            continue  # nested in a node shape: it checks the focus node itself
        for shape in _members(shapes, nested):
            if (shape, SH.node, None) in shapes or (shape, SH.sparql, None) in shapes:
                problems.append(f"a shape nested in {parent} reads beyond its value")
            for prop in shapes.objects(shape, SH.property):
                paths = list(shapes.objects(prop, SH.path))
                if any(not isinstance(p, URIRef) or _nn(p) not in VALUE_FACTS for p in paths):
                    problems.append(f"a nested shape reads {paths} of a value, not VALUE_FACTS")
                if any((prop, deeper, None) in shapes for deeper in DEEPER):
                    problems.append(f"a nested shape in {parent} reads two links away")
    return problems


def _members(shapes: Graph, node) -> list:
    """The shapes a sh:or/sh:and/sh:xone list holds, or the one shape given."""
    items = list(shapes.objects(node, RDF.rest * "*" / RDF.first))  # type: ignore[operator]
    return items or [node]


# --- pyshacl with parsed queries kept -----------------------------------------------------------


@lru_cache(maxsize=1024)
def _prepared(text: str, namespaces: tuple, base: str | None):
    return translateQuery(parseQuery(text), base, dict(namespaces) if namespaces else None)


class PreparedQueryGraph(Graph):
    """An rdflib graph that parses each SPARQL text once: pyshacl sends the same constraint text
    for every focus node, and parsing (pyparsing) is most of a small validation's time.
    A prepared query is rdflib's own reusable form, evaluated by the same engine."""

    def query(self, query_object, processor="sparql", result="sparql", initNs=None,  # noqa: N803
              initBindings=None, use_store_provided=True, **kwargs):  # noqa: N803
        if isinstance(query_object, str) and processor == "sparql":
            namespaces = initNs or dict(self.namespaces())
            key = tuple(sorted((str(k), str(v)) for k, v in namespaces.items()))
            query_object = _prepared(query_object, key, kwargs.get("base"))
        return super().query(query_object, processor, result, initNs, initBindings,
                             use_store_provided, **kwargs)


# --- the check ---------------------------------------------------------------------------------

def is_node(term) -> bool:
    return isinstance(term, ox.NamedNode | ox.BlankNode)


@dataclass
class Verdict:
    """The outcome of validating one change."""

    report: Report
    focus: set = field(default_factory=set)
    checked_triples: int = 0
    mode: str = "incremental"
    seconds: dict[str, float] = field(default_factory=dict)
    """Where the time went: "focus" (the focus nodes and the graph cut out around them, in
    this process) and "shacl" (pyshacl on it, in the validation process or here)."""

    @property
    def conforms(self) -> bool:
        return self.report.conforms


class IncrementalValidator:
    """Validates changes staged on a store, against the shapes, reading only what they reach."""

    def __init__(self, shapes: Graph, hierarchy: Iterable[ox.Triple],
                 process: ValidationProcess | None = None) -> None:
        self.shapes = shapes
        hierarchy = list(hierarchy)
        self.hierarchy_triples = {(t.subject, t.predicate, t.object) for t in hierarchy}
        self.hierarchy = [(rdflib_term(t.subject), rdflib_term(t.predicate),
                           rdflib_term(t.object)) for t in hierarchy]
        self._kept: KeptShapes | None = None
        self.process = process
        """Where the extracted graphs are validated (graph.write.validation_process); None: here."""
        self.problems = coverage_problems(shapes)
        for problem in self.problems:
            log.warning("incremental validation falls back to full validation: %s", problem)

    def check(self, view: Staged, change: Changeset, derived: Changeset) -> Verdict:
        """Validate the staged state (`view` holds the change and the derived shortcuts)."""
        if self.problems:
            return self.check_everything(view)
        started = time.perf_counter()
        focus = self.focus_nodes(view, change, derived, minimal=True)
        verdict = self._run(view, focus, started)
        if not verdict.conforms:
            # Rejected: say so exactly, with what the derived shortcuts' endpoints would report.
            wider = self.focus_nodes(view, change, derived, minimal=False)
            if wider != focus:
                verdict = self._run(view, wider, time.perf_counter())
        return verdict

    def check_everything(self, view: Staged) -> Verdict:
        graph = PreparedQueryGraph(bind_namespaces="core")
        for s, p, o in view.triples():
            graph.add((rdflib_term(s), rdflib_term(p), rdflib_term(o)))
        return Verdict(validate(graph, self.shapes, inplace=True), set(), len(graph), "full")

    @property
    def kept(self) -> KeptShapes:
        """The shapes parsed for pyshacl once (built at the first validation in this process)."""
        if self._kept is None:
            self._kept = KeptShapes(self.shapes)
        return self._kept

    def _run(self, view: Staged, focus: set, started: float) -> Verdict:
        triples = extract(view, focus)
        cut = time.perf_counter()
        if not triples:
            return Verdict(Report(), focus, 0)  # the focus nodes are gone: nothing to check
        # Only results about named focus nodes are kept (a blank node's are incomplete here).
        names = sorted(n.value for n in focus if isinstance(n, ox.NamedNode))
        report = self._validate_elsewhere(triples, names)
        if report is None:
            graph = PreparedQueryGraph(bind_namespaces="core")
            for s, p, o in triples:
                graph.add((rdflib_term(s), rdflib_term(p), rdflib_term(o)))
            for triple in self.hierarchy:
                graph.add(triple)
            report = self.kept.validate(graph, [URIRef(n) for n in names])
        named = set(names)
        kept = [f for f in report.findings if f.focus in named]
        return Verdict(Report(findings=kept), focus, len(triples | self.hierarchy_triples),
                       seconds={"focus": cut - started, "shacl": time.perf_counter() - cut})

    def _validate_elsewhere(self, triples: set[tuple], names: list[str]) -> Report | None:
        if self.process is None:
            return None
        try:
            return self.process.validate(wire_triples(triples), names)
        except ValidationTimeout as exc:
            raise ChangeError(f"validating this change took over {self.process.timeout:g} s "
                              f"(stopped after {exc.args[0]:.1f} s; the limit is "
                              "CITYDIP_VALIDATION_SECONDS): split it into smaller changes",
                              413) from None

    def close(self) -> None:
        if self.process is not None:
            self.process.close()

    # --- 1. focus nodes ------------------------------------------------------------------

    def focus_nodes(self, view: Staged, change: Changeset, derived: Changeset,
                    minimal: bool = True) -> set:
        changed = list(change.quads()) + list(derived.removed)
        if not minimal:
            changed += list(derived.added)
        focus: set = set()
        for quad in changed:
            subject, predicate, obj = quad.subject, quad.predicate, quad.object
            focus.add(subject)
            if predicate in INCOMING_READ and is_node(obj):
                focus.add(obj)
            if predicate in VALUE_FACTS:
                focus.update(q.subject for q in view.quads(None, None, subject, superset=True)
                             if q.predicate != RDF_TYPE)
                if predicate == RDF_TYPE:
                    focus.update(view.objects(subject, ORG_MEMBER, superset=True))
            if predicate in MEMBERSHIP_FACTS:
                focus.update(_signed_by_members(view, {subject}))
            if predicate in CHAIN:
                focus.update(_signed_under(view, subject))
        return {n for n in focus if is_node(n)}


def _signed_by_members(view: Staged, memberships: set) -> set:
    """Agreements signed by the persons these memberships are of (before or after the change)."""
    persons = {p for m in memberships for p in view.objects(m, ORG_MEMBER, superset=True)}
    return {a for p in persons for a in view.subjects(SIGNATORY, p, superset=True)}


def _signed_under(view: Staged, node) -> set:
    """Agreements whose signatory holds a role in a body that reaches `node` through CHAIN."""
    bodies, frontier = {node}, [node]
    while frontier:
        current = frontier.pop()
        for predicate in CHAIN:
            for below in view.subjects(predicate, current, superset=True):
                if below not in bodies:
                    bodies.add(below)
                    frontier.append(below)
    memberships = {m for b in bodies for m in view.subjects(ORG_ORGANIZATION, b, superset=True)}
    return _signed_by_members(view, memberships)


# --- 2. extraction -----------------------------------------------------------------------------


def extract(view: Staged, focus: Iterable) -> set[tuple]:
    """What the shapes read for these focus nodes, from the staged (after) state."""
    out: set[tuple] = set()
    for node in focus:
        own = view.triples(node)
        out |= own
        for _, predicate, value in own:
            if predicate == RDF_TYPE or not is_node(value):
                continue
            for fact in VALUE_FACTS:
                out |= view.triples(value, fact)
            if predicate in SHORTCUT_PREDICATES:
                out |= view.triples(value, predicate, node)
        for membership in view.subjects(ORG_MEMBER, node):
            out.add((membership, ORG_MEMBER, node))
            out |= view.triples(membership, RDF_TYPE)
        for _, _, signatory in view.triples(node, SIGNATORY):
            for membership in view.subjects(ORG_MEMBER, signatory):
                for fact in MEMBERSHIP_FACTS:
                    out |= view.triples(membership, fact)
                for body in view.objects(membership, ORG_ORGANIZATION):
                    out |= _chain(view, body)
    return out


def _chain(view: Staged, body) -> set[tuple]:
    found: set[tuple] = set()
    frontier, seen = [body], {body}
    while frontier:
        current = frontier.pop()
        for predicate in CHAIN:
            for triple in view.triples(current, predicate):
                found.add(triple)
                if triple[2] not in seen:
                    seen.add(triple[2])
                    frontier.append(triple[2])
    return found
