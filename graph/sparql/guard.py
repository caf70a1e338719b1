"""Refusing queries that would make the server reach other hosts (SERVICE), decided on the parse."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class UnsafeQuery(ValueError):
    """The query would contact another host, or cannot be checked."""


def expand_escapes(text: str) -> str:
    """SPARQL's codepoint escapes (\\u0053 = S) are applied before parsing; apply them here too."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def check_query(text: str, allowed_hosts: tuple[str, ...] = ()) -> None:
    """Raise UnsafeQuery if the query has a SERVICE clause to a host not in `allowed_hosts`."""
    # A SERVICE keyword cannot be written without the letters s-e-r-v-i-c-e once escapes are
    # expanded, so a query without them is let through without the cost of a full parse.
    if "service" not in expand_escapes(text).lower():
        return
    if len(text) > CACHED_TEXT_CHARS:
        _check_parse(text, allowed_hosts)  # not kept: 2048 large queries would pin gigabytes
    else:
        _check_parsed(text, allowed_hosts)


CACHED_TEXT_CHARS = 20_000
"""Queries up to this length have their verdict cached (most are a few hundred characters)."""


@lru_cache(maxsize=2048)
def _check_parsed(text: str, allowed_hosts: tuple[str, ...]) -> None:
    _check_parse(text, allowed_hosts)


def _check_parse(text: str, allowed_hosts: tuple[str, ...]) -> None:
    try:
        tree = parseQuery(text)
    except RecursionError:
        raise UnsafeQuery("the query nests too deeply to be checked for SERVICE clauses; "
                          "write it with fewer nested groups or brackets") from None
    except ParseBaseException:
        # Either a syntax error (the engine reports it with its position) or syntax our parser
        # does not know: as a SERVICE cannot be ruled out, refuse rather than guess.
        raise UnsafeQuery(
            "the query mentions SERVICE and could not be checked; federated queries are not "
            "allowed on this endpoint"
        ) from None
    for target in _services(tree):
        host = urlsplit(str(target)).hostname if not str(target).startswith("?") else None
        if host is None or host.lower() not in {h.lower() for h in allowed_hosts}:
            raise UnsafeQuery(
                f"SERVICE <{target}> is not allowed: this endpoint does not query other hosts"
                + (f" (allowed: {', '.join(allowed_hosts)})" if allowed_hosts else "")
            )


def _services(node) -> list:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                term = item.get("term")
                found.append(f"?{term}" if term.__class__.__name__ == "Variable" else term)
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple) or hasattr(item, "asList"):
            stack.extend(list(item))
    return found


def is_update(text: str) -> bool:
    """True when the text parses as a SPARQL Update (sent to the query endpoint by mistake)."""
    try:
        parseUpdate(text)
    except (ParseBaseException, RecursionError):
        return False
    return True
