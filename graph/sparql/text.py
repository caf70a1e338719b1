"""Light lexical facts about SPARQL text that do not need a full parse."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

_WORD_FROM = re.compile(r"(?<![?$\w:.-])FROM(?![\w:.-])", re.IGNORECASE)


def first_open_brace(text: str) -> int:
    """Index of the `{` opening the WHERE group: the first `{` outside IRIs, strings, comments
    and a CONSTRUCT template."""
    # Kept for the usual short texts: a page binds the same few query files again and again.
    return _first_open_brace(text) if len(text) <= 20_000 else _scan_open_brace(text)


def _scan_open_brace(text: str) -> int:
    i, n = 0, len(text)
    last_word = ""
    template = "none"  # "pending" after CONSTRUCT, "inside" its template, "none" otherwise
    while i < n:
        c = text[i]
        if c == "#":
            i = text.find("\n", i)
            if i < 0:
                break
        elif c == "<" and (end := text.find(">", i)) > 0 and " " not in text[i:end]:
            i = end
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote) - 1
        elif c.isalpha() or c in "?$_":
            end = i + 1
            while end < n and (text[end].isalnum() or text[end] in "_-:."):
                end += 1
            last_word = text[i:end].upper()
            if last_word == "CONSTRUCT":
                template = "pending"
            i = end
            continue
        elif c == "{":
            if template != "pending" or last_word == "WHERE":
                return i
            template = "inside"
        elif c == "}" and template == "inside":
            template = "none"
        i += 1
    raise ValueError("the query has no group pattern")


def _prologue_and_head(text: str) -> str:
    """The text before the first group pattern, with IRIs, strings and comments blanked out."""
    try:
        end = first_open_brace(text)
    except ValueError:
        end = len(text)
    head = re.sub(r"<[^<>\s]*>", " ", text[:end])
    head = re.sub(r"#[^\n]*", " ", head)
    return re.sub(r"'[^']*'|\"[^\"]*\"", " ", head)


def has_dataset_clause(text: str) -> bool:
    """True when the query names its own dataset (FROM / FROM NAMED before its WHERE clause)."""
    # Cached for the usual short queries only: 1024 large ones would pin gigabytes.
    return _has_dataset_clause(text) if len(text) <= 20_000 else _dataset_clause(text)


def _dataset_clause(text: str) -> bool:
    return bool(_WORD_FROM.search(_prologue_and_head(text)))


_has_dataset_clause = functools.lru_cache(maxsize=1024)(_dataset_clause)
_first_open_brace = functools.lru_cache(maxsize=1024)(_scan_open_brace)


def bind_values(sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """Bind variables to RDF terms with a VALUES block opening the WHERE group.

    The terms are written by pyoxigraph in N-Triples syntax (escaped), never pasted as raw text,
    and the VALUES block joins the group before its filters, so parameters behave as bound. It is
    how every parameter is bound, for the embedded store as for a remote one: pyoxigraph's own
    `substitutions` give the same answers but its optimizer does not treat a substituted value as
    a constant (up to 10x slower on the named queries at a million triples, docs/benchmarks.md).
    """
    if not bindings:
        return sparql
    at = first_open_brace(sparql)
    names = " ".join(f"?{name}" for name in bindings)
    row = " ".join(str(term) for term in bindings.values())
    return f"{sparql[:at + 1]} VALUES ({names}) {{ ({row}) }} {sparql[at + 1:]}"



def bind_rows(sparql: str, names: Sequence[str],
              rows: Iterable[Sequence[ox.NamedNode | ox.Literal]]) -> str:
    """Restrict variables to rows of RDF terms: `VALUES (?a ?b) { (t1 t2) … }` opening the WHERE
    group, the terms written by pyoxigraph like those of `bind_values`.

    Why: a page reads the keys of a whole list first and then the details of one page of it
    (server.page_lists); this is how the second query is given the page's keys.
    """
    head = " ".join(f"?{name}" for name in names)
    body = " ".join("(" + " ".join(str(term) for term in row) + ")" for row in rows)
    at = first_open_brace(sparql)
    return f"{sparql[:at + 1]} VALUES ({head}) {{ {body} }} {sparql[at + 1:]}"


_FORM_WORD = re.compile(r"(?<![?$\w:.-])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:.-])", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query (None if none is written)."""
    found = _FORM_WORD.search(_prologue_and_head(text))
    return found.group(1).upper() if found else None


_PROLOGUE_ITEM = re.compile(
    r"\s+|#[^\n]*|PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>", re.IGNORECASE)


def union_of(parts: Mapping[str, str], tag: str = "pagePart") -> str:
    """One SELECT whose rows are those of each of `parts` (SELECT queries, their parameters
    already bound), each row with `?{tag}` naming the part it came from: the parts as
    subqueries joined by UNION, their prologues merged.

    Why: an entity page reads several lists at once (server.page_lists); as one query they
    are one hand-off to the engine and back, and one snapshot, rather than one per list.
    The parts keep their own ORDER BY, LIMIT and GROUP BY (a subquery may have them); two
    parts that bind one prefix name to different namespaces are refused (ValueError).
    """
    prefixes: dict[str, str] = {}
    branches = []
    for name, text in parts.items():
        at = 0
        while (item := _PROLOGUE_ITEM.match(text, at)) and item.end() > at:
            if item.group(2) is not None:
                prefix = item.group(1) or ""
                if prefixes.setdefault(prefix, item.group(2)) != item.group(2):
                    raise ValueError(f"prefix {prefix}: means two namespaces in the parts")
            at = item.end()
        label = ox.Literal(name)
        branches.append(f"  {{ {{ {text[at:].rstrip()}\n  }} BIND ({label} AS ?{tag}) }}")
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
    return f"{prologue}SELECT * WHERE {{\n" + "\n  UNION\n".join(branches) + "\n}\n"
