"""The remote backend: any SPARQL 1.1 query/update endpoint pair (Oxigraph server, Virtuoso, …).

Many stateless server replicas can point at one shared store. The remote store must use the union
of its named graphs as the default graph (Oxigraph: `--union-default-graph`; Fuseki:
`tdb2:unionDefaultGraph true`; Virtuoso does so already, once its own graphs are private) and
should enforce its own query timeout.

Engines differ in what they answer, and the differences are absorbed here, in one place, so that
the rest of the server sees standard answers (README, "Over Virtuoso"):
- the Accept header is chosen by the query's form: Virtuoso answers a CONSTRUCT asked with a
  list preferring SPARQL results JSON as a table of ?s ?p ?o, not as triples;
- an ASK may come back as a one-row table (`__ASK_RETVAL`, Virtuoso): it is turned into a boolean;
- a time limit may stop a query and still answer 200 with the rows found so far and an
  `X-SQL-State` header (Virtuoso's anytime queries): that is a timeout (503), never a result, and
  a query refused up front for its estimated cost is a timeout too;
- Virtuoso writes booleans as "1"/"0": they are rewritten in canonical form ("true"/"false");
- a result cap of the store (Virtuoso's ResultSetMaxRows) would silently cut the whole-data
  reads (dump, validation): those reads compare what they got with a count and fail loudly;
- update requests have a size limit on some engines (Virtuoso: the SQL text generated for one
  INSERT DATA), so bulk inserts halve their chunk when a store refuses one;
- `clear()` drops our graphs one by one, never `DROP ALL`, which on Virtuoso would reach its
  system graphs.

A graph IRI is never pasted into query text: it is made a pyoxigraph term first (`_graph`), which
refuses what is not an IRI (a `>` or a space could otherwise end the IRI and add to the request)
and writes it in SPARQL syntax. A changeset is one SPARQL Update (graph.store.data_update).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from graph.sparql.formats import rdf_format_of_media_type, rdf_format_of_path
from graph.sparql.text import bind_values, query_form
from graph.store.data_update import data_update, graph_block
from graph.store.protocol import QuadStore

RESULTS_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
ACCEPT_BY_FORM = {"SELECT": "application/sparql-results+json",
                  "ASK": "application/sparql-results+json",
                  "CONSTRUCT": "application/n-triples", "DESCRIBE": "application/n-triples"}
CHUNK = 5_000
MIN_CHUNK = 50
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
CANONICAL_BOOLEAN = {"1": "true", "0": "false"}
EMPTY_GRAPH = "urn:citydiplomacy:empty"
"""A graph that never holds a triple: the half of a request's dataset the request left empty."""
SYSTEM_GRAPH = "http://www.openlinksw.com/schemas/virtrdf#"
"""Virtuoso's own graph: seen by our queries only when the store is not set up as documented."""
SYSTEM_GRAPHS = frozenset({SYSTEM_GRAPH, "http://www.w3.org/ns/ldp#",
                           "http://localuriqaserver/sparql"})
"""Virtuoso's graphs of a fresh database. Private as documented, they still come back from
`SELECT DISTINCT ?g { GRAPH ?g {…} }`, which Virtuoso answers from its graph index; rows naming
them are dropped from its answers."""


def query_request(params: list[tuple[str, str]]) -> dict:
    """httpx arguments for a query POSTed as a form (repeated keys kept, e.g. named-graph-uri).

    The Accept header names the one format that fits the query's form (see the module text).
    """
    query = next((v for k, v in params if k == "query"), "")
    return {"content": urlencode(params).encode("ascii"),
            "headers": {"Accept": ACCEPT_BY_FORM.get(query_form(query) or "", RESULTS_ACCEPT),
                        "Content-Type": "application/x-www-form-urlencoded"}}


class RemoteError(RuntimeError):
    """The remote store refused a request or could not be reached."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class Truncated(RemoteError):
    """The remote store answered 200 with a body that does not parse (a cut-off result)."""


class Stopped(RemoteError):
    """The remote store stopped the query at its time limit (or refused it for its cost)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 503)


def check_answer(status: int, headers, body: bytes) -> None:
    """Raise Stopped for an answer that a time limit cut short, whatever its HTTP status."""
    state = headers.get("x-sql-state")
    if state:
        note = headers.get("x-sql-message", "")
        raise Stopped(f"the remote store stopped the query at its time limit and returned "
                      f"incomplete results (X-SQL-State {state}: {note[:200]})")
    if status == 500 and b"S1T00" in body[:2000]:
        raise Stopped("the remote store stopped the query at its time limit ("
                      + body[:200].decode("utf-8", "replace").strip() + ")")
    if status == 500 and b"estimated execution time" in body[:2000]:
        raise Stopped("the remote store refused the query: it would run past its time limit ("
                      + body[:200].decode("utf-8", "replace").strip() + ")")


def normalize_answer(headers, body: bytes, form: str | None, complete: bool = True) -> bytes:
    """Rewrite an engine's non-standard answer into the standard one (see the module text).

    Only Virtuoso's answers need it (told by its Server header); a body we stopped reading
    (`complete` False) is left as it is, to be served up to where it was cut.
    """
    if not complete or not headers.get("server", "").startswith("Virtuoso"):
        return body
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/sparql-results+json":
        try:
            answer = json.loads(body)
        except ValueError:
            return body
        variables = answer.get("head", {}).get("vars", [])
        if form == "ASK" and variables == ["__ASK_RETVAL"]:
            rows = answer.get("results", {}).get("bindings", [])
            value = rows[0].get("__ASK_RETVAL", {}).get("value", "0") if rows else "0"
            return json.dumps({"head": {}, "boolean": value not in ("0", "false")}).encode()
        rows = [row for row in answer.get("results", {}).get("bindings", [])
                if not any(t.get("type") == "uri" and t.get("value") in SYSTEM_GRAPHS
                           for t in row.values())]
        if "results" in answer:
            answer["results"]["bindings"] = rows
        for row in rows:
            for term in row.values():
                if term.get("datatype") == XSD_BOOLEAN and term.get("value") in CANONICAL_BOOLEAN:
                    term["value"] = CANONICAL_BOOLEAN[term["value"]]
        return json.dumps(answer, ensure_ascii=False).encode("utf-8")
    fmt = rdf_format_of_media_type(media)
    if fmt is not None and b"#boolean>" in body:
        try:
            triples = [ox.Triple(t.subject, t.predicate, _canonical(t.object))
                       for t in ox.parse(body, format=fmt)]
        except SyntaxError:
            return body
        return cast(bytes, ox.serialize(triples, format=fmt))  # no output: returns bytes
    return body


def _canonical(term):
    if (isinstance(term, ox.Literal) and term.datatype.value == XSD_BOOLEAN
            and term.value in CANONICAL_BOOLEAN):
        return ox.Literal(CANONICAL_BOOLEAN[term.value], datatype=term.datatype)
    return term


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
        fmt = rdf_format_of_media_type(media)
        if fmt is None:
            raise RemoteError(f"the remote store answered with unexpected type {media!r}")
        triples = ox.parse(body, format=fmt)
        return triples if lazy else list(triples)
    except SyntaxError as exc:
        raise Truncated(f"the remote store's answer was cut off or malformed: {exc}", 503) from exc


def update_auth(settings) -> httpx.Auth | None:
    """Credentials for the update endpoint from the settings (CITYDIP_REMOTE_UPDATE_USER …)."""
    if not settings.remote_update_user:
        return None
    user, password = settings.remote_update_user, settings.remote_update_password or ""
    if settings.remote_update_auth == "basic":
        return httpx.BasicAuth(user, password)
    return httpx.DigestAuth(user, password)


class RemoteStore:
    """The synchronous store interface (as graph.store.embedded.Store) over a SPARQL endpoint
    pair."""

    @classmethod
    def from_settings(cls, settings) -> RemoteStore:
        if not settings.remote_query_url:
            raise ValueError("the remote backend needs CITYDIP_REMOTE_QUERY_URL")
        return cls(settings.remote_query_url, settings.remote_update_url,
                   update_auth=update_auth(settings))

    def __init__(self, query_url: str, update_url: str | None, timeout: float = 60.0,
                 update_auth: httpx.Auth | None = None) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.update_auth = update_auth
        self._client = httpx.Client(timeout=timeout)
        self.lock = threading.RLock()
        self.engine = "sparql"
        """"virtuoso" once check_engine() saw its Server header; "sparql" for any other."""

    # --- reading ---------------------------------------------------------------------------

    def query(self, sparql: str, bindings=None, *, default_graph=None, named_graphs=None):
        text = bind_values(sparql, bindings or {})
        params: list[tuple[str, str]] = [("query", text)]
        if default_graph is not None or named_graphs is not None:
            params += [("default-graph-uri", g) for g in default_graph or (EMPTY_GRAPH,)]
            params += [("named-graph-uri", g) for g in named_graphs or (EMPTY_GRAPH,)]
        try:
            response = self._client.post(self.query_url, **query_request(params))
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the remote store at {self.query_url}: {exc}") from exc
        check_answer(response.status_code, response.headers, response.content)
        if response.status_code != 200:
            raise RemoteError(f"remote store: HTTP {response.status_code}: {response.text[:500]}",
                              400 if response.status_code == 400 else 502)
        body = normalize_answer(response.headers, response.content, query_form(text))
        return parse_response(response.headers.get("content-type", ""), body)

    def graphs(self) -> list[str]:
        """The named graphs holding triples. Grouped, not DISTINCT: Virtuoso answers
        `SELECT DISTINCT ?g` from its graph index, which lists even graphs the user cannot read."""
        rows = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return sorted(r["g"].value for r in rows)

    def check_engine(self) -> None:
        """Tell the engine; refuse a store whose own system graphs our queries would read."""
        try:
            probe = self._client.get(self.query_url, params={"query": "ASK {}"})
            if probe.headers.get("server", "").startswith("Virtuoso"):
                self.engine = "virtuoso"
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the remote store at {self.query_url}: {exc}") from exc
        if self.query(f"ASK {{ GRAPH {_graph(SYSTEM_GRAPH)} {{ ?s ?p ?o }} }}"):
            raise RemoteError(
                "the remote store shows Virtuoso's system graphs to the SPARQL user, so they "
                "would be part of our data: make them private (README, 'Over Virtuoso')")

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH {_graph(graph)} {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
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
        """Every quad of the named graphs; fails loudly if the store cut the answer short."""
        rows = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        quads = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]
        expected = self.count()
        if len(quads) < expected:
            raise RemoteError(f"the remote store returned {len(quads)} of its {expected} quads: "
                              "its result cap (Virtuoso: ResultSetMaxRows) is below the size "
                              "of the data")
        return quads

    def dump(self, format: ox.RdfFormat, graph: str | None = None) -> bytes:
        if format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            return cast(bytes, ox.serialize(self.quads(), format=format))  # no output: bytes
        # the remote store's quads are all in named graphs
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in self.quads()
                   if graph is None or cast(ox.NamedNode, q.graph_name).value == graph}
        return cast(bytes, ox.serialize(sorted(triples, key=str), format=format))

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
            response = self._client.post(self.update_url, data={"update": sparql},
                                         auth=self.update_auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the remote store at {self.update_url}: {exc}") from exc
        if response.status_code not in (200, 204):
            raise RemoteError(f"remote update: HTTP {response.status_code}: {response.text[:500]}",
                              400 if response.status_code == 400 else 502)

    def insert(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        """Insert triples into a graph with INSERT DATA requests of bounded size.

        A store that refuses a request as too large (HTTP 400 on data pyoxigraph wrote) gets it
        again in halves, down to MIN_CHUNK triples; the smaller size is kept for what follows.
        """
        node = _graph(graph)
        written = 0
        size = CHUNK
        pending = list(triples)
        while written < len(pending):
            chunk = pending[written:written + size]
            try:
                self.update(f"INSERT DATA {{ {graph_block(node, chunk)} }}")
            except RemoteError as exc:
                if exc.status != 400 or size <= MIN_CHUNK:
                    raise
                size = max(MIN_CHUNK, size // 2)
                continue
            written += len(chunk)
        return written

    def load_file(self, path: Path, graph: str, on_bytes=None) -> None:
        fmt = rdf_format_of_path(path)
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

    def apply(self, removed: Collection[ox.Quad], added: Collection[ox.Quad]) -> None:
        """Remove then add these quads as one SPARQL Update request (one transaction)."""
        if removed or added:
            self.update(data_update(removed, added))

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        self.update(f"DROP SILENT GRAPH {_graph(graph)}")
        return self.insert(graph, triples)

    def clear(self) -> None:
        """Drop every graph our queries see, one by one (never DROP ALL: see the module text)."""
        for graph in self.graphs():
            self.update(f"DROP SILENT GRAPH {_graph(graph)}")

    def flush(self) -> None:
        """Nothing to flush: the remote store commits each update."""


def _graph(iri: str) -> ox.NamedNode:
    """A graph IRI as a term, written `<…>` in query text; ValueError if it is not an IRI."""
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise ValueError(f"not a graph IRI: {iri!r} ({exc})") from None


_conforms: type[QuadStore] = RemoteStore
"""mypy checks here that the remote store is a QuadStore (graph.store.protocol)."""
