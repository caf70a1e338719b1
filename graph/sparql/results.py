"""Query results as text: a terminal table, or the standard SPARQL result and RDF formats."""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox
from rich.table import Table

from graph.core.namespaces import compact

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "table": ox.RdfFormat.TURTLE,
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "json": ox.RdfFormat.JSON_LD,
}


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
        if fmt not in GRAPH_FORMATS:
            raise ValueError(f"format {fmt!r} does not fit a graph result; use ttl, nt or jsonld")
        return cast(bytes, ox.serialize(result, format=GRAPH_FORMATS[fmt]))  # no output: bytes
    if fmt not in RESULT_FORMATS:
        raise ValueError(f"format {fmt!r} does not fit a table result; use json, xml, csv or tsv")
    return result.serialize(format=RESULT_FORMATS[fmt])
