"""What the remote backend forwards: standard SPARQL 1.1 queries only, checked here first.

An engine behind the remote backend may accept far more at its query endpoint than a query:
Virtuoso runs SPARQL Update sent as `query=` (once its SPARQL user may update, which the write path
needs) and offers its SQL built-ins as functions (`bif:http_get` fetches any URL, `sql:` calls
stored procedures), plus `DEFINE` pragmas that can make it fetch documents. Our public endpoint is
read-only and never makes anything contact another host, whatever the engine, so the text is
vetted before it leaves: it must parse as a SPARQL 1.1 query and name no IRI in the engines'
built-in schemes. The parser is pyoxigraph's, on an empty store, so a refusal carries the same
message (with its line:column) as on the embedded backend; pyoxigraph evaluates SELECT, CONSTRUCT
and DESCRIBE lazily, so nothing runs, but it answers an ASK at once, so an ASK is parsed by
rdflib instead (a parse only), pyoxigraph giving the message if rdflib refuses it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyoxigraph as ox
from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parser import parseQuery

from graph.sparql.guard import expand_escapes
from graph.sparql.text import query_form

_BUILTIN_SCHEME = re.compile(r"(?:^|[^\w.:/#%-])(bif|sql)\s*:", re.IGNORECASE)
"""An IRI or prefixed name in Virtuoso's built-in function schemes (`<bif:…>`, `sql:…`, a prefix
or BASE bound to them)."""


@lru_cache(maxsize=2048)
def vet_query(text: str, base_iri: str | None = None) -> str | None:
    """Why the query must not be forwarded to the remote store, or None if it may be."""
    found = _BUILTIN_SCHEME.search(expand_escapes(text))
    if found:
        return (f"the query names the engine's built-in '{found.group(1)}:' functions, which this "
                "endpoint does not offer (standard SPARQL 1.1 only)")
    if query_form(text) == "ASK":
        try:
            parseQuery(text)
            return None
        except ParseBaseException:
            pass
    try:
        ox.Store().query(text, base_iri=base_iri)
    except SyntaxError as exc:
        return f"query syntax error: {exc}"
    except (ValueError, RuntimeError, OSError) as exc:
        return f"query cannot be run: {exc}"
    return None
