"""RDF terms of rdflib and of pyoxigraph, each as the other; the few every layer reads.

Why a module of its own: the write path reads the store (pyoxigraph) and hands graphs to rdflib
(SPARQL Update templates, SHACL), and the shapes' SPARQL targets run in pyoxigraph on rdflib's
graph (graph.store.kept_shapes). One pair of conversions serves both, below every layer that
needs it (graph.store must not import graph.write).
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

XSD_STRING = str(XSD.string)

# Terms that several layers read from the store, spelled once as pyoxigraph nodes.
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_SUBCLASS_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
RDFS_SUBPROPERTY_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subPropertyOf")


def rdflib_term(term):
    """A pyoxigraph term as rdflib parses it from N-Triples (the full validation's view)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def ox_term(term) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """An rdflib term as pyoxigraph's (None for anything else: a variable, a path)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    return None
