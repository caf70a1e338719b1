"""Query results as text: a terminal table, or the standard SPARQL result and RDF formats."""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox
from rich.table import Table

from graph.core.namespaces import compact
from graph.sparql.formats import BY_NAME

RESULT_NAMES = ("json", "xml", "csv", "tsv")
"""The command line's names for a table result (graph.sparql.formats)."""
GRAPH_NAMES = {"table": "ttl", "ttl": "ttl", "nt": "nt", "jsonld": "jsonld", "json": "jsonld"}
"""The command line's names for a graph result, and the format each stands for."""


def show_term(term: object | None) -> str:
    """A term as a person reads it: compact IRIs, plain literal values with their language."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        return f"{term.value} @{term.language}" if term.language else term.value
    return str(term)


def rows(solutions: ox.QuerySolutions) -> tuple[list[str], list[list[object | None]]]:
    names = [v.value for v in solutions.variables]
    return names, [[solution[name] for name in names] for solution in solutions]


def as_table(solutions: ox.QuerySolutions, title: str | None = None) -> Table:
    names, data = rows(solutions)
    table = Table(title=title, show_lines=False)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in data:
        table.add_row(*(show_term(t) for t in row))
    table.caption = f"{len(data)} row{'s' if len(data) != 1 else ''}"
    return table


def serialize(result, fmt: str) -> bytes:
    """Serialize any query result in a named format (json, xml, csv, tsv, ttl, nt, jsonld)."""
    if isinstance(result, ox.QueryTriples):
        if fmt not in GRAPH_NAMES:
            raise ValueError(f"format {fmt!r} does not fit a graph result; use ttl, nt or jsonld")
        # no output: serialize returns bytes
        return cast(bytes, ox.serialize(result, format=BY_NAME[GRAPH_NAMES[fmt]].rdf))
    if fmt not in RESULT_NAMES:
        raise ValueError(f"format {fmt!r} does not fit a table result; use json, xml, csv or tsv")
    return result.serialize(format=BY_NAME[fmt].results)
