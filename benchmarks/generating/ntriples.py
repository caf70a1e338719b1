"""N-Triples terms for the generator: IRIs and literals formatted once, and a buffered writer.

The generator writes millions of lines; its predicates and classes are pre-formatted strings
(`<iri>`), and a line is a plain f-string, not an rdflib or pyoxigraph term, for speed.
"""

from __future__ import annotations

from graph.core.namespaces import CD as CD_NS  # the project's own IRIs
from graph.core.namespaces import GEO, ORG, PREFIXES
from graph.core.namespaces import ID as ID_NS

CD = str(CD_NS)
ID = str(ID_NS)
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV, SKOS, DCTERMS = PREFIXES["prov"], PREFIXES["skos"], PREFIXES["dcterms"]


def _p(iri: str) -> str:
    return f"<{iri}>"


# Predicates and classes, pre-formatted as N-Triples terms.
RDF_TYPE = _p("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = _p("http://www.w3.org/2000/01/rdf-schema#label")
ALT_LABEL = _p(SKOS + "altLabel")
TITLE = _p(DCTERMS + "title")
LANGUAGE = _p(DCTERMS + "language")
DERIVED = _p(PROV + "wasDerivedFrom")
QUOTED_FROM = _p(PROV + "wasQuotedFrom")
ORG_MEMBER = _p(ORG.member)
ORG_ROLE = _p(ORG.role)
ORG_ORGANIZATION = _p(ORG.organization)
GEO_LAT = _p(GEO.lat)
GEO_LONG = _p(GEO.long)


def cd(name: str) -> str:
    return _p(CD + name)


def res(kind: str, slug: str) -> str:
    return _p(f"{ID}{kind}/{slug}")


D_DECIMAL, D_INTEGER, D_BOOLEAN = XSD + "decimal", XSD + "integer", XSD + "boolean"
D_DATE, D_GYEARMONTH, D_GYEAR = XSD + "date", XSD + "gYearMonth", XSD + "gYear"
TRUE = f'"true"^^<{D_BOOLEAN}>'


def escape(text: str) -> str:
    if "\\" in text or '"' in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        )
    return text


def lit(text: str, lang: str) -> str:
    return f'"{escape(text)}"@{lang}'


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


def integer(value: int) -> str:
    return typed(value, D_INTEGER)


class Writer:
    """Buffered N-Triples output that counts what it writes."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.buffer: list[str] = []
        self.count = 0

    def t(self, s: str, p: str, o: str) -> None:
        self.buffer.append(f"{s} {p} {o} .\n")
        if len(self.buffer) >= 20000:
            self.flush()

    def flush(self) -> None:
        self.count += len(self.buffer)
        self.handle.write("".join(self.buffer))
        self.buffer.clear()

    @property
    def written(self) -> int:
        return self.count + len(self.buffer)
