"""The IRIs the code needs by name: vocabulary, resource base, named graphs."""

from rdflib import Namespace

BASE = "https://w3id.org/citydiplomacy/"
"""Every IRI the project mints starts here; the ones below are the only places it is spelled."""
CD = Namespace(BASE + "ns#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
META = Namespace(BASE + "meta#")
"""The write path's bookkeeping vocabulary (the last applied change)."""
SHAPES = BASE + "shapes"
"""What the IRIs of the SHACL shapes start with."""
SKOLEM = BASE + ".well-known/genid/"
"""Well-known IRIs that stand for blank nodes written through the write API (RDF 1.1 §3.5)."""
ORG = Namespace("http://www.w3.org/ns/org#")
GEO = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
SCHEMA = Namespace("https://schema.org/")

ONTOLOGY_GRAPH = GRAPH["ontology"]
SHORTCUTS_GRAPH = GRAPH["shortcuts"]
META_GRAPH = GRAPH["meta"]
WORLD_GRAPH_PREFIX = str(GRAPH["world-"])
"""The imported pair lists are loaded into graphs `graph/world-{source}`."""

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
