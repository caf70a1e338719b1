"""Networks as files: GraphML and GEXF (Gephi, Cytoscape), CSV tables, node-link JSON."""

from __future__ import annotations

import csv
import io
import json

import networkx as nx

EXPORT_FORMATS = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
LIST_SEPARATOR = "; "


def flat(graph: nx.Graph) -> nx.Graph:
    """A copy whose attributes GraphML and GEXF can hold: lists joined, empty values left out."""
    out = nx.Graph()
    out.graph.update({k: _scalar(v) for k, v in graph.graph.items() if _keep(v)})
    for n, attrs in graph.nodes(data=True):
        out.add_node(n, **{k: _scalar(v) for k, v in attrs.items() if _keep(v)})
    for a, b, attrs in graph.edges(data=True):
        out.add_edge(a, b, **{k: _scalar(v) for k, v in attrs.items() if _keep(v)})
    return out


def _keep(value: object) -> bool:
    return value is not None and value != "" and value != []


def _scalar(value: object) -> object:
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def node_link(graph: nx.Graph) -> dict:
    """The network as JSON: nodes with their attributes, edges with source and target."""
    return {
        "directed": False,
        "graph": dict(graph.graph),
        "nodes": [{"id": n, **attrs} for n, attrs in graph.nodes(data=True)],
        "edges": [{"source": a, "target": b, **attrs} for a, b, attrs in graph.edges(data=True)],
    }


def csv_table(graph: nx.Graph, table: str = "edges") -> str:
    """One table as CSV: `edges` (Source, Target, Weight… as Gephi imports it) or `nodes` (Id…)."""
    buffer = io.StringIO()
    if table == "nodes":
        keys = sorted({k for _, attrs in graph.nodes(data=True) for k in attrs})
        writer = csv.writer(buffer)
        writer.writerow(["Id", "Label", *[k for k in keys if k != "label"]])
        for n, attrs in graph.nodes(data=True):
            writer.writerow([n, attrs.get("label", n),
                             *[_cell(attrs.get(k)) for k in keys if k != "label"]])
    elif table == "edges":
        keys = sorted({k for _, _, attrs in graph.edges(data=True) for k in attrs} - {"weight"})
        writer = csv.writer(buffer)
        writer.writerow(["Source", "Target", "Weight", *keys])
        for a, b, attrs in graph.edges(data=True):
            writer.writerow([a, b, attrs.get("weight", 1), *[_cell(attrs.get(k)) for k in keys]])
    else:
        raise ValueError(f"unknown table {table!r}; use nodes or edges")
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    return _scalar(value)


def export(graph: nx.Graph, fmt: str, table: str = "edges") -> bytes:
    """The network in one of `EXPORT_FORMATS` (CSV: one table, edges or nodes)."""
    if fmt in ("graphml", "gexf"):  # the writers add the XML declaration Gephi expects
        buffer = io.BytesIO()
        writer = nx.write_graphml if fmt == "graphml" else nx.write_gexf
        writer(flat(graph), buffer)
        return buffer.getvalue()
    if fmt == "csv":
        return csv_table(graph, table).encode("utf-8")
    if fmt == "json":
        return json.dumps(node_link(graph), ensure_ascii=False, indent=1).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
