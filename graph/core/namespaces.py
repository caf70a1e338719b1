"""The IRIs the code needs by name: vocabulary, resource base, named graphs."""

from rdflib import Namespace

CD = Namespace("https://w3id.org/citydiplomacy/ns#")
ID = Namespace("https://w3id.org/citydiplomacy/id/")
GRAPH = Namespace("https://w3id.org/citydiplomacy/graph/")
ORG = Namespace("http://www.w3.org/ns/org#")
GEO = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
SCHEMA = Namespace("https://schema.org/")

ONTOLOGY_GRAPH = GRAPH["ontology"]
SHORTCUTS_GRAPH = GRAPH["shortcuts"]

PREFIXES = {
    "cd": str(CD),
    "id": str(ID),
    "org": str(ORG),
    "geo": str(GEO),
    "schema": str(SCHEMA),
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def compact(iri: str) -> str:
    """Shorten an IRI with the project's prefixes for display."""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def graph_for(stem: str):
    """The named graph a data file `graph/data/{stem}.ttl` is loaded into."""
    return GRAPH[stem]
