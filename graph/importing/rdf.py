"""The RDF of an imported pair list, and its validation against the pair-list profile.

Areas the graph already has keep their IRI and get only what cannot contradict it (the list's
spelling as skos:altLabel, a Wikidata or GeoNames IRI, a country or coordinates when they have
none); new areas are `id/area/{name}-{country code or QID}`.

A pair is one tie whichever lists state it: its IRI is made of its two parties' IRIs
(`id/relation/{party}--{party}`), so a second list, or the same list imported again, writes the
same node rather than another. What differs per list is the record of its rows
(`id/pair-row/{source}-l{line}`, a cd:PairListRow with every line that states the pair and the
list), which the tie is derived from; so "in how many lists" is a count of the tie's lists, and
re-importing a list replaces its rows and nothing else. The tie's labels are built from its
parties' labels in each language they have, so a tie between two areas named only without a
language tag is the one label without a tag.
"""

from __future__ import annotations

import random
from typing import cast

import pyoxigraph as ox
import rdflib

from graph.core.namespaces import CD, GEO, ID, SHORTCUTS_GRAPH
from graph.core.settings import Settings
from graph.core.terms import RDF_TYPE
from graph.importing.countries import country_name
from graph.importing.gazetteer import LICENSE as GEONAMES_LICENSE
from graph.importing.gazetteer import SITE as GEONAMES_SITE
from graph.importing.gazetteer import geonames_iri
from graph.importing.pairs import ListNode, PairList
from graph.importing.reconcile import ListArea, Reconciliation, Target
from graph.importing.spec import (
    CHUNK,
    DCT,
    OWL_SAME_AS,
    PARTNER_CITY,
    PAV,
    PROFILE_DIR,
    PROV_DERIVED,
    RDFS,
    SAMPLE,
    SKOS,
    WIKIDATA,
    WORLD_PREFIX,
    XSD,
    SourceSpec,
    _decimal,
    _line,
    _nn,
    _p,
    _relpath,
    sha256,
    slug,
)
from graph.store.embedded import Store
from graph.store.validate import Report, parse_dir, validate

PROV = "http://www.w3.org/ns/prov#"


def tie_iri(a: str, b: str) -> str:
    """The one IRI of the tie between two areas, whichever lists state it:
    `id/relation/{kind}-{slug}--{kind}-{slug}` of the two parties in IRI order."""
    first, second = sorted((a, b))
    tail = [iri.removeprefix(str(ID)).replace("/", "-") if iri.startswith(str(ID))
            else slug(iri) for iri in (first, second)]
    return f"{ID}relation/{tail[0]}--{tail[1]}"


def row_iri(source: str, line: int) -> str:
    """The record of the rows of one list that state a pair (named by the first)."""
    return f"{ID}pair-row/{source}-l{line}"


def _pick(labels: dict[str, str], lang: str) -> str:
    for key in (lang, "en", ""):
        if labels.get(key):
            return labels[key]
    return labels[min(labels)]


def tie_labels(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str]]:
    """A tie's labels from its parties' labels: one per language either party has a label in
    (the other's label in that language, else in English, else without a tag), and one without
    a language tag only when neither has a tagged label."""
    langs = sorted({lang for lang in (*a, *b) if lang}) or [""]
    return [(lang, f"{_pick(a, lang)} – {_pick(b, lang)}") for lang in langs]


def triples_of(spec: SourceSpec, pairs: PairList, entries: dict[str, ListArea],
             result: Reconciliation, targets: dict[str, Target], countries: dict[str, dict],
             located: dict[str, str] | None = None,
             report_ties: dict[tuple[str, str], list[str]] | None = None,
             gazetteer: str = ""
             ) -> tuple[list[ox.Triple], dict[str, str], dict[str, str]]:
    """The list as triples; returns them, the IRI of each area, and the countries minted.
    `located`: areas of the graph the gazetteer placed now (IRI → GeoNames ID), which get their
    owl:sameAs here; `report_ties`: the report's relations and agreements by their parties;
    `gazetteer`: its attribution when the import used it (the list's provenance says so)."""
    label = _p(RDFS, "label")
    alt = _p(SKOS, "altLabel")
    area_cls, country_cls = _nn(str(CD.AdministrativeArea)), _nn(str(CD.Country))
    country_p, line_p = _nn(str(CD.country)), _nn(str(CD.sourceLine))
    lang = spec.language or None

    def text(value: str) -> ox.Literal:
        return ox.Literal(value, language=lang) if lang else ox.Literal(value)

    triples: list[ox.Triple] = []
    add = triples.append
    graph, source = _nn(spec.graph), _nn(spec.node)

    # The graph and the list it comes from.
    title = spec.title or f"Pair list {spec.source}"
    add(ox.Triple(graph, label, ox.Literal(title, language="en")))
    add(ox.Triple(graph, _p(DCT, "source"), source))
    add(ox.Triple(source, RDF_TYPE, _nn(str(CD.PairList))))
    add(ox.Triple(source, label, ox.Literal(title, language="en")))
    comment = (spec.description.strip() + " " if spec.description else "") + (
        "Each pair is imported as a twinning relation whose kind the list does not state "
        "(rel:partner-city) and which has no date.")
    add(ox.Triple(source, _p(RDFS, "comment"), ox.Literal(comment, language="en")))
    for value, pred in ((spec.origin, _p(PAV, "retrievedFrom")),
                        (spec.license, _p(DCT, "license"))):
        if value:
            add(ox.Triple(source, pred, _nn(value)))
    if spec.license_name:
        add(ox.Triple(source, _p(DCT, "rights"), ox.Literal(spec.license_name, language="en")))
    if spec.creator:
        add(ox.Triple(source, _p(DCT, "creator"), ox.Literal(spec.creator)))
    if spec.retrieved:
        kind = {4: "gYear", 7: "gYearMonth"}.get(len(spec.retrieved), "date")
        add(ox.Triple(source, _p(PAV, "retrievedOn"),
                      ox.Literal(spec.retrieved, datatype=_p(XSD, kind))))
    if gazetteer:
        geonames = _nn(GEONAMES_SITE)
        add(ox.Triple(source, _p(PROV, "wasInfluencedBy"), geonames))
        add(ox.Triple(geonames, RDF_TYPE, _nn(str(CD.Source))))
        add(ox.Triple(geonames, label, ox.Literal("GeoNames", language="en")))
        add(ox.Triple(geonames, _p(RDFS, "comment"), ox.Literal(
            f"The gazetteer behind the reconciliation of this list: {gazetteer}. Areas it "
            "locates surely carry owl:sameAs their GeoNames IRI.", language="en")))
        add(ox.Triple(geonames, _p(DCT, "license"), _nn(GEONAMES_LICENSE)))
    for path in filter(None, (spec.file, spec.names)):
        add(ox.Triple(source, _nn(str(CD.sourceFile)), ox.Literal(_relpath(path))))
        add(ox.Triple(source, _p(DCT, "identifier"), ox.Literal(f"sha256:{sha256(path)}")))

    # Countries: the graph's own node for a code when it has one, else one minted here.
    taken_country_iris = {c["iri"] for c in countries.values()}
    country_iri: dict[str, str] = {}
    minted_countries: dict[str, str] = {}
    node: ox.NamedNode | ListNode  # a country, then a list's node
    for code in sorted({e.country for e in entries.values() if e.country}):
        known = countries.get(code)
        if known:
            country_iri[code] = known["iri"]
            if all(not g.startswith(WORLD_PREFIX) for g in known["graphs"]):
                continue  # the report describes it: say nothing that could contradict it
        else:
            iri = f"{ID}country/{slug(country_name(code)) or code.lower()}"
            if iri in taken_country_iris:
                iri = f"{iri}-{code.lower()}"
            country_iri[code] = iri
            minted_countries[code] = iri
        node = _nn(country_iri[code])
        add(ox.Triple(node, RDF_TYPE, country_cls))
        add(ox.Triple(node, label, ox.Literal(country_name(code), language="en")))
        add(ox.Triple(node, _nn(str(CD.iso3166Alpha2)), ox.Literal(code)))
        add(ox.Triple(node, country_p, node))

    # Areas of the graph the gazetteer placed (the report's cities among them).
    for iri, gid in sorted((located or {}).items()):
        add(ox.Triple(_nn(iri), OWL_SAME_AS, _nn(geonames_iri(gid))))

    # Areas: the target's IRI when matched, else a new one.
    taken = set(targets)
    iris: dict[str, str] = {}
    labels_of: dict[str, dict[str, str]] = {}
    for key in sorted(entries):
        e, node = entries[key], pairs.nodes[key]
        decision = result.decisions[key]
        if decision.status == "matched":
            iri = decision.iri
            t = targets[iri]
            subject = _nn(iri)
            add(ox.Triple(subject, RDF_TYPE, area_cls))
            if e.name not in t.names:
                add(ox.Triple(subject, alt, text(e.name)))
            if e.qid and not t.qid:
                add(ox.Triple(subject, OWL_SAME_AS, _nn(f"{WIKIDATA}{e.qid}")))
            if e.gid and not t.gid:
                add(ox.Triple(subject, OWL_SAME_AS, _nn(geonames_iri(e.gid))))
            labels_of[iri] = dict(t.labels) or {lang or "": e.name}
            if e.country and not t.country:
                add(ox.Triple(subject, country_p, _nn(country_iri[e.country])))
            if e.lat is not None and t.lat is None:
                add(ox.Triple(subject, _nn(str(GEO.lat)), _decimal(e.lat)))
                add(ox.Triple(subject, _nn(str(GEO.long)), _decimal(e.lon)))  # type: ignore
        else:
            tail = e.qid.lower() if e.qid else (e.country.lower() or slug(node.country) or "xx")
            stem = "-".join(filter(None, (slug(e.name), tail))) or "area"
            iri, n = f"{ID}area/{stem}", 2
            while iri in taken:
                iri, n = f"{ID}area/{stem}-{n}", n + 1
            subject = _nn(iri)
            add(ox.Triple(subject, RDF_TYPE, area_cls))
            add(ox.Triple(subject, label, text(e.name)))
            if e.qid:
                add(ox.Triple(subject, OWL_SAME_AS, _nn(f"{WIKIDATA}{e.qid}")))
            if e.gid:
                add(ox.Triple(subject, OWL_SAME_AS, _nn(geonames_iri(e.gid))))
            labels_of[iri] = {lang or "": e.name}
            if e.country:
                add(ox.Triple(subject, country_p, _nn(country_iri[e.country])))
            if e.lat is not None:
                add(ox.Triple(subject, _nn(str(GEO.lat)), _decimal(e.lat)))
                add(ox.Triple(subject, _nn(str(GEO.long)), _decimal(e.lon)))  # type: ignore
        taken.add(iri)
        iris[key] = iri
        add(ox.Triple(subject, line_p, _line(node.line)))

    # Ties: one per pair of areas, the same IRI in every list that states it; each list's rows
    # are a record of their own (the lines, the list) that the tie is derived from.
    relation_cls, party = _nn(str(CD.TwinningRelation)), _nn(str(CD.party))
    row_cls, kind_p = _nn(str(CD.PairListRow)), _nn(str(CD.relationKind))
    see_also = _p(RDFS, "seeAlso")
    for pair in sorted(pairs.pairs.values(), key=lambda p: p.lines[0]):
        a, b = iris[pair.a], iris[pair.b]
        r = _nn(tie_iri(a, b))
        row = _nn(row_iri(spec.source, pair.lines[0]))
        add(ox.Triple(r, RDF_TYPE, relation_cls))
        add(ox.Triple(r, kind_p, PARTNER_CITY))
        add(ox.Triple(r, party, _nn(a)))
        add(ox.Triple(r, party, _nn(b)))
        first, second = sorted((a, b))
        for tag, value in tie_labels(labels_of[first], labels_of[second]):
            add(ox.Triple(r, label, ox.Literal(value, language=tag) if tag
                          else ox.Literal(value)))
        add(ox.Triple(r, PROV_DERIVED, row))
        add(ox.Triple(r, PROV_DERIVED, source))
        for other in (report_ties or {}).get((first, second), ()):
            add(ox.Triple(r, see_also, _nn(other)))
        add(ox.Triple(row, RDF_TYPE, row_cls))
        add(ox.Triple(row, label, ox.Literal(
            f"{spec.source}, line{'s' if len(pair.lines) > 1 else ''} "
            + ", ".join(map(str, pair.lines)), language="en")))
        add(ox.Triple(row, PROV_DERIVED, source))
        for n in pair.lines:
            add(ox.Triple(row, line_p, _line(n)))
    return triples, iris, minted_countries


# --- validation -----------------------------------------------------------------------------------

def profile_shapes() -> rdflib.Graph:
    return parse_dir(PROFILE_DIR)


def validate_import(store: Store, settings: Settings, spec: SourceSpec,
                    targets: dict[str, Target], sample: int | None = SAMPLE
                    ) -> tuple[Report, int]:
    """Validate the imported graph against the pair-list profile with pyshacl: every relation
    of an area from the report's data, and `sample` other relations drawn with a fixed seed
    (every relation, in chunks of CHUNK, when `sample` is None). Each relation is validated
    with its parties, their countries and the list's node, in the context of the whole graph
    (the report's labels of its own cities count). Returns the report and the relations checked."""
    raw = store.raw
    graph = _nn(spec.graph)
    # the relations, their parties and countries are IRIs (no RDF-star triples here)
    relations = sorted({cast(ox.NamedNode, q.subject).value for q in raw.quads_for_pattern(
        None, RDF_TYPE, _nn(str(CD.TwinningRelation)), graph)})
    report_areas = {iri for iri, t in targets.items()
                    if any(not o.startswith(WORLD_PREFIX) for o in t.origins)}
    party = _nn(str(CD.party))
    touching = sorted({r for r in relations
                       if any(cast(ox.NamedNode, q.object).value in report_areas
                              for q in raw.quads_for_pattern(_nn(r), party, None, graph))})
    if sample is None:
        chosen = relations
    else:
        rest = sorted(set(relations) - set(touching))
        chosen = touching + random.Random(42).sample(rest, min(sample, len(rest)))
    shapes = profile_shapes()
    ontology = parse_dir(settings.ontology_dir)
    findings = Report()
    for start in range(0, len(chosen), CHUNK):
        data = rdflib.Graph()
        data += ontology
        data.parse(data=_neighbourhood(raw, chosen[start:start + CHUNK], spec),
                   format="nt")
        findings.findings.extend(validate(data, shapes).findings)
    return findings, len(chosen)


def _neighbourhood(raw: ox.Store, relations: list[str], spec: SourceSpec) -> bytes:
    """The relations with their parties, the parties' countries and the list's node (all
    graphs but the derived shortcuts), as N-Triples."""
    shortcuts = str(SHORTCUTS_GRAPH)
    subjects: set[str] = {spec.node, spec.graph}
    party, country = _nn(str(CD.party)), _nn(str(CD.country))
    for r in relations:
        subjects.add(r)
        # sources, parties and countries are IRIs (no RDF-star triples here)
        for q in raw.quads_for_pattern(_nn(r), PROV_DERIVED, None, None):
            subjects.add(cast(ox.NamedNode, q.object).value)
        for q in raw.quads_for_pattern(_nn(r), party, None, None):
            subjects.add(cast(ox.NamedNode, q.object).value)
            for c in raw.quads_for_pattern(cast(ox.NamedNode, q.object), country, None, None):
                subjects.add(cast(ox.NamedNode, c.object).value)
    triples = []
    for s in sorted(subjects):
        for q in raw.quads_for_pattern(_nn(s), None, None, None):
            if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == shortcuts):
                triples.append(ox.Triple(q.subject, q.predicate, q.object))
    return cast(bytes, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))  # no output: bytes
