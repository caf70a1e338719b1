"""The remote backend: any SPARQL 1.1 query/update endpoint pair (Oxigraph server, Fuseki, …).

Many stateless server replicas can point at one shared store. The remote store must use the union
of its named graphs as the default graph (Oxigraph: `--union-default-graph`; Fuseki:
`tdb2:unionDefaultGraph true`) and should enforce its own query timeout.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from graph.sparql_text import bind_values

RESULTS_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
CHUNK = 5_000


def query_request(params: list[tuple[str, str]]) -> dict:
    """httpx arguments for a query POSTed as a form (repeated keys kept, e.g. named-graph-uri)."""
    return {"content": urlencode(params).encode("ascii"),
            "headers": {"Accept": RESULTS_ACCEPT,
                        "Content-Type": "application/x-www-form-urlencoded"}}


class RemoteError(RuntimeError):
    """The remote store refused a request or could not be reached."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class Truncated(RemoteError):
    """The remote store answered 200 with a body that does not parse (a cut-off result)."""


def parse_response(content_type: str, body: bytes, lazy: bool = False):
    """Turn a remote answer into pyoxigraph results (solutions, boolean, or triples).

    Solutions (and triples when `lazy`) are parsed while they are iterated: a body cut off in
    the middle raises SyntaxError then, not here.
    """
    media = content_type.split(";")[0].strip().lower()
    try:
        if media == "application/sparql-results+json":
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        if media == "application/sparql-results+xml":
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            raise RemoteError(f"the remote store answered with unexpected type {media!r}")
        triples = ox.parse(body, format=fmt)
        return triples if lazy else list(triples)
    except SyntaxError as exc:
        raise Truncated(f"the remote store's answer was cut off or malformed: {exc}", 503) from exc


class RemoteStore:
    """The synchronous store interface (as graph.store.Store) over a SPARQL endpoint pair."""

    def __init__(self, query_url: str, update_url: str | None, timeout: float = 60.0) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self._client = httpx.Client(timeout=timeout)
        self.lock = threading.RLock()

    # --- reading ---------------------------------------------------------------------------

    def query(self, sparql: str, bindings=None, *, default_graph=None, named_graphs=None):
        params: list[tuple[str, str]] = [("query", bind_values(sparql, bindings or {}))]
        params += [("default-graph-uri", g) for g in default_graph or ()]
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        try:
            response = self._client.post(self.query_url, **query_request(params))
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the remote store at {self.query_url}: {exc}") from exc
        if response.status_code != 200:
            raise RemoteError(f"remote store: HTTP {response.status_code}: {response.text[:500]}",
                              400 if response.status_code == 400 else 502)
        return parse_response(response.headers.get("content-type", ""), response.content)

    def graphs(self) -> list[str]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(r["g"].value for r in rows)

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        rows = list(self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"))
        return int(rows[0]["n"].value)

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph=None):
        """The quads of the named graphs matching a pattern (None is a wildcard).

        Bound terms are written by pyoxigraph in N-Triples syntax, never pasted as raw text.
        """
        terms = {"s": subject, "p": predicate, "o": object}
        pattern = " ".join(f"?{k}" if v is None else str(v) for k, v in terms.items())
        where = f"GRAPH {'?g' if graph is None else str(graph)} {{ {pattern} }}"
        rows = self.query(f"SELECT * WHERE {{ {where} }}")
        return [ox.Quad(r["s"] if subject is None else subject,
                        r["p"] if predicate is None else predicate,
                        r["o"] if object is None else object,
                        r["g"] if graph is None else graph) for r in rows]

    def quads(self) -> list[ox.Quad]:
        rows = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]

    def dump(self, format: ox.RdfFormat, graph: str | None = None) -> bytes:
        if format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            return ox.serialize(self.quads(), format=format)
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        return ox.serialize(self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}"),
                            format=format)

    def to_rdflib(self):
        import rdflib

        union = rdflib.Graph()
        union.parse(data=self.dump(ox.RdfFormat.N_TRIPLES), format="nt")
        return union

    # --- writing ---------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise RemoteError("no update endpoint is configured (CITYDIP_REMOTE_UPDATE_URL)")
        try:
            response = self._client.post(self.update_url, data={"update": sparql})
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the remote store at {self.update_url}: {exc}") from exc
        if response.status_code not in (200, 204):
            raise RemoteError(f"remote update: HTTP {response.status_code}: {response.text[:500]}")

    def insert(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        """Insert triples into a graph with INSERT DATA requests of bounded size."""
        written = 0
        iterator = iter(triples)
        while chunk := list(itertools.islice(iterator, CHUNK)):
            body = ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}")
            written += len(chunk)
        return written

    def load_file(self, path: Path, graph: str, on_bytes=None) -> None:
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if fmt is None:
            raise ValueError(f"{path}: unknown RDF file extension {path.suffix!r}")
        with path.open("rb") as handle:
            try:
                triples = [ox.Triple(q.subject, q.predicate, q.object)
                           for q in ox.parse(io.BytesIO(handle.read()), format=fmt)]
            except SyntaxError as exc:
                raise ValueError(f"{path}: {exc}") from None
        self.insert(graph, triples)
        if on_bytes is not None:
            on_bytes(path.stat().st_size)

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        self.update(f"DROP SILENT GRAPH <{graph}>")
        return self.insert(graph, triples)

    def clear(self) -> None:
        self.update("DROP SILENT ALL")

    def flush(self) -> None:
        """Nothing to flush: the remote store commits each update."""
