"""The changeset the write benchmarks add: a sister-city agreement with what it needs to validate.

benchmarks/updates.py (the writer in process) and benchmarks/load.py (editors of a live server)
write the same kind of record, so that their figures describe the same write: an agreement
between two cities, its passage in a report, a new signatory and the signatory's role, each
labelled so that the shapes of shapes/ accept it.
"""

from __future__ import annotations

CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
PREFIXES = f"""@prefix cd: <{CD}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix org: <http://www.w3.org/ns/org#> .
"""


def agreement(n: int, slug: str, parties: tuple[str, str], country: str, topics: list[str],
              report: str, label: tuple[str, str]) -> str:
    """Turtle of agreement `ID/agreement/{slug}` between `parties`, signed by a new person of the
    first party's `country`, quoted from `report`; labelled `label` (English, Chinese) and `n`."""
    a, b = parties
    return PREFIXES + f"""
<{ID}agreement/{slug}> a cd:SisterCityAgreement ;
    rdfs:label "{label[0]} {n}"@en , "{label[1]} {n}"@zh-Hant ;
    cd:party <{a}> , <{b}> ;
    cd:signatory <{ID}person/{slug}> ;
    cd:signedOn "2026-03-01"^^xsd:date ;
    cd:status <{ID}status/signed> ;
    cd:topic <{topics[0]}> , <{topics[1]}> ;
    prov:wasDerivedFrom <{ID}passage/{slug}> .
<{ID}passage/{slug}> a cd:Passage ;
    cd:quote "締結姊妹市協定 {n}"@zh-Hant ; cd:lineStart {n + 1} ; cd:lineEnd {n + 1} ;
    prov:wasQuotedFrom <{report}> .
<{ID}person/{slug}> a cd:Person ;
    rdfs:label "Mayor {n}"@en , "市長 {n}"@zh-Hant ; cd:country <{country}> .
<{ID}membership/{slug}> a cd:Membership ;
    org:member <{ID}person/{slug}> ; org:role <{ID}role/mayor> ; org:organization <{a}> ;
    cd:tenure <{ID}tenure/current> ; prov:wasDerivedFrom <{ID}passage/{slug}> .
"""
