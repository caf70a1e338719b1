"""How pages show RDF terms: compact names, language tags, and links to our own pages.

Why a module of its own: the front page, browsing, search, the entity pages and the named
queries' tables all turn a term into the same dict (`node`) that the templates know, and name
classes and languages alike. They are sibling route modules, which never import each other
(tests/unit/test_layout.py), so the one way to show a term lives here.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pyoxigraph as ox
from fastapi import Request
from rdflib.namespace import RDF, RDFS, XSD

from graph.core.namespaces import CD, PREFIXES
from server.rendering import root_path

DISPLAY_PREFIXES = {**PREFIXES, "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD)}
"""The prefixes pages and the query page use: the project's, and the W3C ones data shows."""

PLAIN_DATATYPES = (str(XSD.string), str(RDF.langString))
"""Datatypes a page does not show: a literal's text (and language tag) says it all."""
LANGUAGE_NAMES = {
    "en": "English",
    "zh-Hant": "Chinese (traditional) · 繁體中文",
    "pl": "Polish · polski",
    "ja": "Japanese · 日本語",
    "ko": "Korean · 한국어",
    "de": "German · Deutsch",
}
LANGUAGE_ORDER = list(LANGUAGE_NAMES)


_LONGEST_FIRST = sorted(DISPLAY_PREFIXES.items(), key=lambda kv: -len(kv[1]))


@functools.lru_cache(maxsize=8192)
def compact(iri: str) -> str:
    """`cd:City` for the IRI of cd:City: the longest display prefix that fits (every term of a
    page passes here, many of them the same few properties and classes)."""
    for prefix, ns in _LONGEST_FIRST:
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def language_tag(tag: str | None) -> str:
    """A BCP 47 tag in its usual case (the store lower-cases them): zh-hant → zh-Hant."""
    if not tag:
        return ""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper() if len(part) == 2
                   else part.lower())
    return "-".join(out)


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


def language_rank(tag: str) -> tuple[int, str]:
    return (LANGUAGE_ORDER.index(tag) if tag in LANGUAGE_ORDER else len(LANGUAGE_ORDER), tag)


def local_path(request: Request, iri: str) -> str | None:
    """The page of a resource under the resource base: `{base}city/gdynia` → `/id/city/gdynia`."""
    base = request.app.state.settings.resource_base
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    if not re.fullmatch(r"[a-z0-9-]+/[A-Za-z0-9._~-]+", rest):
        return None
    return f"{root_path(request)}/id/{rest}"


def browse_path(request: Request, class_iri: str) -> str | None:
    if class_iri.startswith(str(CD)):
        return f"{root_path(request)}/browse?class={class_iri[len(str(CD)):]}"
    return None


def node(request: Request, term: Any, label: Any = None, label_zh: Any = None) -> dict:
    """A term as the templates show it: text, an optional link, and what kind of term it is."""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        return {
            "kind": "literal",
            "text": term.value,
            "lang": language_tag(term.language),
            "datatype": None if datatype in PLAIN_DATATYPES else compact(datatype),
        }
    if isinstance(term, ox.BlankNode):
        return {"kind": "bnode", "text": f"_:{term.value}", "href": None}
    iri = term.value
    href = local_path(request, iri)
    # Only web IRIs become links out: a `javascript:` IRI in the data must stay text.
    external = href is None and re.match(r"(?i)https?://", iri) is not None
    text = label.value if label is not None else None
    short = compact(iri)
    return {
        "kind": "iri",
        "iri": iri,
        "text": text or short,
        "lang": language_tag(label.language) if label is not None else "",
        "labelled": text is not None,
        "secondary": label_zh.value if label_zh is not None else None,
        "compact": short,
        "href": href or (iri if external else None),
        "local": href is not None,
    }


def label_literal(text: str | None, lang: str | None) -> ox.Literal | None:
    if text is None:
        return None
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def value(row: dict, key: str) -> str | None:
    term = row.get(key)
    return term.value if term is not None else None
