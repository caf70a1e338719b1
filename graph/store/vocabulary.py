"""The vocabulary's classes and properties, read from the ontology, for editors' autocompletion.

The query page completes class and property names from this list instead of calling remote
services (YASGUI's defaults ask prefix.cc and LOV, which would make the page contact other hosts
and complete from vocabularies we do not use). The list is read from `ontology/` (declarative,
the same files the store loads), once per folder.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rdflib import OWL, RDF, RDFS, URIRef

from graph.store.validate import parse_dir

CLASS_TYPES = (OWL.Class, RDFS.Class)
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)


@lru_cache(maxsize=4)
def vocabulary_terms(ontology_dir: Path) -> dict[str, list[str]]:
    """{"classes": [IRI…], "properties": [IRI…]} declared in the ontology folder, sorted."""
    graph = parse_dir(Path(ontology_dir))

    def declared(types) -> list[str]:
        return sorted({str(s) for t in types for s in graph.subjects(RDF.type, t)
                       if isinstance(s, URIRef)})

    return {"classes": declared(CLASS_TYPES), "properties": declared(PROPERTY_TYPES)}
