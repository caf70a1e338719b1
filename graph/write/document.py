"""The editors' changeset document: what `POST /changes` takes and `citydip apply` reads.

`{"message": …, "add": …, "remove": …, "format": …, "graph": …, "base": …}`, a JSON object
because editors write it by hand and tools write it by program: one message saying why, the
triples to add and to remove as RDF text (Turtle unless `format` says otherwise) or inline JSON-LD.
The document only says what is asked; graph.write.changes turns it into the effective change and
graph.write.policy decides whether it may be made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from graph.sparql.limits import Bounds
from graph.write.changes import ChangeError
from graph.write.payload import parse_rdf, rdf_format


@dataclass
class Document:
    """`{"message": …, "add": …, "remove": …, "format": …, "graph": …}` read into quads."""

    message: str
    add: list[ox.Quad] = field(default_factory=list)
    remove: list[ox.Quad] = field(default_factory=list)


def parse_document(doc: object, write_graph: str, bounds: Bounds | None = None) -> Document:
    """Read a changeset document (already decoded from JSON).

    `add` and `remove` are RDF text in `format` (default Turtle) or, as JSON objects or arrays,
    JSON-LD. Added triples go to `graph` (default: the write graph); removed ones are removed from
    `graph` if it is given, else from whichever named graph holds them. TriG names graphs itself.
    """
    if not isinstance(doc, dict):
        raise ChangeError("a changeset is a JSON object with message, add and remove")
    unknown = set(doc) - {"message", "add", "remove", "format", "graph", "base"}
    if unknown:
        raise ChangeError(f"unknown changeset field(s): {', '.join(sorted(unknown))}")
    message = doc.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ChangeError("a changeset needs a message saying what it changes and why")
    graph = doc.get("graph")
    if graph is not None and not isinstance(graph, str):
        raise ChangeError("graph must be an IRI string")
    try:
        target = ox.NamedNode(graph or write_graph)
    except ValueError as exc:
        raise ChangeError(f"graph is not an IRI: {exc}") from None
    base = doc.get("base") if isinstance(doc.get("base"), str) else None
    fmt_name = doc.get("format")
    if fmt_name is not None and not isinstance(fmt_name, str):
        raise ChangeError("format must be a string such as turtle, json-ld or trig")

    def read(key: str, into: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
        value = doc.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict | list):
            return parse_rdf(json.dumps(value), ox.RdfFormat.JSON_LD, into, base, bounds)
        if not isinstance(value, str):
            raise ChangeError(f"{key} must be RDF text or a JSON-LD object")
        return parse_rdf(value, rdf_format(fmt_name, ox.RdfFormat.TURTLE), into, base, bounds)

    add = read("add", target)
    remove = read("remove", target if graph else ox.DefaultGraph())
    if bounds is not None and len(add) + len(remove) > bounds.max_triples:
        raise ChangeError(str(bounds.too_many("the changeset")), 413)
    if not add and not remove:
        raise ChangeError("the changeset adds and removes nothing")
    return Document(message.strip(), add, remove)


def read_document_file(path: Path, write_graph: str, bounds: Bounds | None = None) -> Document:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ChangeError(f"{path}: the JSON nests too deeply") from None
    except json.JSONDecodeError as exc:
        raise ChangeError(f"{path}: not JSON: {exc}") from None
    return parse_document(doc, write_graph, bounds)
