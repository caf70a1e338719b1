"""One table of formats: media types, short names, file extensions, serializers; and content
negotiation.

Every other module asks this one which pyoxigraph format a media type, a short name (`ttl`,
`format=json-ld`) or a file extension stands for: the SPARQL endpoint's results, entity pages,
Graph Store payloads, changeset documents, dumps and data files all read the same table, so a
format is added or renamed in one place.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import mimeparse
import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    results: ox.QueryResultsFormat | None = None
    """Serializer for SELECT/ASK results, when the format is a results format."""
    rdf: ox.RdfFormat | None = None
    """Serializer for CONSTRUCT/DESCRIBE graphs, when the format is an RDF format."""
    extensions: tuple[str, ...] = ()
    """File extensions of an RDF format, the usual one first."""


FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", results=ox.QueryResultsFormat.JSON),
    Format("xml", "application/sparql-results+xml", results=ox.QueryResultsFormat.XML),
    Format("csv", "text/csv", results=ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", results=ox.QueryResultsFormat.TSV),
    Format("ttl", "text/turtle", rdf=ox.RdfFormat.TURTLE, extensions=("ttl",)),
    Format("jsonld", "application/ld+json", rdf=ox.RdfFormat.JSON_LD,
           extensions=("jsonld", "json")),
    Format("nt", "application/n-triples", rdf=ox.RdfFormat.N_TRIPLES, extensions=("nt", "txt")),
    Format("rdfxml", "application/rdf+xml", rdf=ox.RdfFormat.RDF_XML, extensions=("rdf", "xml")),
    Format("trig", "application/trig", rdf=ox.RdfFormat.TRIG, extensions=("trig",)),
    Format("nq", "application/n-quads", rdf=ox.RdfFormat.N_QUADS, extensions=("nq",)),
)
BY_NAME = {f.name: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
NAME_ALIASES = {
    "turtle": "ttl",
    "n-triples": "nt",
    "json-ld": "jsonld",
    "rdf+xml": "rdfxml",
    "n-quads": "nq",
}
"""Spelled-out names, accepted wherever a short name is."""
ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "nt",
    "application/x-turtle": "ttl",
    "application/turtle": "ttl",
    "text/n3": "ttl",
    **NAME_ALIASES,
}
GRAPH_ALIASES = {
    "xml": "rdfxml",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
    "json": "jsonld",
    "application/json": "jsonld",
    "n3": "ttl",
}
"""What the generic names mean for a CONSTRUCT or DESCRIBE (SPARQLWrapper sends format=xml)."""
RESULT_FORMATS = [f for f in FORMATS if f.results is not None]
GRAPH_FORMATS = [f for f in FORMATS if f.rdf is not None and f.name != "nq"]
RDF_FORMATS = [f for f in FORMATS if f.rdf is not None]

PAYLOAD_ALIASES = ("application/x-turtle", "text/plain", "application/json")
"""Other media types RDF sent to us (or by a remote store) may be labelled with, read as what
they mean for a graph: Turtle, N-Triples (RDF 1.0's type), JSON-LD."""
RDF_MEDIA_TYPES: dict[str, ox.RdfFormat] = {
    **{f.media_type: f.rdf for f in RDF_FORMATS if f.rdf is not None},
    **{m: r for m in PAYLOAD_ALIASES
       if (r := BY_NAME[GRAPH_ALIASES.get(m) or ALIASES[m]].rdf) is not None},
}
"""RDF serializations by media type."""
RDF_NAMES: dict[str, ox.RdfFormat] = {
    **{f.name: f.rdf for f in RDF_FORMATS if f.rdf is not None},
    **{a: r for a, n in NAME_ALIASES.items() if (r := BY_NAME[n].rdf) is not None},
}
"""RDF serializations by short name (`ttl`, `turtle`, `jsonld`, `json-ld`, …)."""
RDF_EXTENSIONS: dict[str, ox.RdfFormat] = {
    e: f.rdf for f in RDF_FORMATS if f.rdf is not None for e in f.extensions}
"""RDF serializations by file extension (without the dot)."""
DATA_SUFFIXES = frozenset("." + f.extensions[0] for f in RDF_FORMATS)
"""The file suffixes of data files: each format's usual extension."""


def rdf_format(key: str | None) -> ox.RdfFormat | None:
    """The RDF format for a media type (`text/turtle; charset=utf-8`) or a short name (`ttl`)."""
    key = (key or "").split(";")[0].strip().lower()
    return RDF_MEDIA_TYPES.get(key) or RDF_NAMES.get(key)


def rdf_format_of_media_type(media_type: str) -> ox.RdfFormat | None:
    """The RDF format of another engine's answer by its Content-Type (parameters ignored), None if
    it is not RDF.

    Liberal, since other engines label their answers as they please (Virtuoso's `text/ntriples`):
    past our table, any other type pyoxigraph's parsers know.
    """
    key = media_type.split(";")[0].strip().lower()
    return RDF_MEDIA_TYPES.get(key) or ox.RdfFormat.from_media_type(key)


def rdf_format_of_path(path: str | Path) -> ox.RdfFormat | None:
    """The RDF format of a file, by its extension."""
    return RDF_EXTENSIONS.get(Path(path).suffix.lstrip(".").lower())


class NotAcceptable(ValueError):
    """No format the client accepts fits the result."""


HTML = Format("html", "text/html")
"""A resource's page for people, offered beside its RDF descriptions (`negotiate(page=True)`)."""
HTML_TYPES = ("application/xhtml+xml", "text/html")


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, form: str, requested: str | None = None,
              page: bool = False) -> Format:
    """The format for a query form (SELECT, ASK, CONSTRUCT, DESCRIBE) from `format=` or Accept.

    The first format of each kind is the default for `*/*` and for an absent Accept header.
    With `page` (entity pages), the HTML page is offered too and is the default, `*/*` included;
    the generic `application/json` and `application/xml` are not read as JSON-LD or RDF/XML
    there, since browsers send `application/xml;q=0.9` and mean no RDF by it.
    Clients send the same few Accept headers again and again: the choices are cached.
    """
    graph = page or form in ("CONSTRUCT", "DESCRIBE")
    candidates = GRAPH_FORMATS if graph else RESULT_FORMATS
    aliases = {**ALIASES, **GRAPH_ALIASES} if graph else ALIASES
    if requested:
        if page and requested.lower() in (HTML.name, HTML.media_type):
            return HTML
        key = aliases.get(requested.lower(), requested.lower())
        chosen = BY_NAME.get(key) or BY_MEDIA_TYPE.get(key)
        if chosen is None or chosen not in candidates:
            names = ", ".join(f.name for f in candidates)
            raise NotAcceptable(f"format {requested!r} does not fit a {form} result; use {names}")
        return chosen
    if not accept or not accept.strip():
        return HTML if page else candidates[0]
    # mimeparse breaks ties in favour of the last offer: put the default last.
    offered = [a for a, n in (ALIASES if page else aliases).items()
               if "/" in a and BY_NAME[n] in candidates]
    offered += [f.media_type for f in reversed(candidates)]
    if page:
        offered += HTML_TYPES
    try:
        best = mimeparse.best_match(offered, accept)
    except (ValueError, mimeparse.MimeTypeParseException):
        best = ""
    if not best:
        if page:
            types = ", ".join([HTML.media_type] + [f.media_type for f in candidates])
            raise NotAcceptable(f"none of the accepted types is offered; offered: {types}")
        types = ", ".join(f.media_type for f in candidates)
        raise NotAcceptable(f"none of the accepted types fits a {form} result; offered: {types}")
    if best in HTML_TYPES:
        return HTML
    if best in BY_MEDIA_TYPE and BY_MEDIA_TYPE[best] in candidates:
        return BY_MEDIA_TYPE[best]
    return BY_NAME[aliases[best]]


@dataclass
class Serialized:
    body: bytes
    media_type: str
    truncated: bool = False
    rows: int | None = None


class _TooManyRows(Exception):
    """Raised from inside pyoxigraph's writer to stop a result past the row limit."""


class _RowBudget(io.RawIOBase):
    """A TSV sink that keeps the header and the first `max_rows` rows, then stops the writer.

    TSV has one line per row (line breaks in values are escaped), so rows are counted by line
    ends, whatever the chunks the writer hands over.
    """

    def __init__(self, max_rows: int) -> None:
        self._lines_left = max_rows + 1  # the header line, then one line per row
        self.buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        data = bytes(chunk)
        if not data:
            return 0
        newlines = data.count(b"\n")
        if newlines < self._lines_left or (newlines == self._lines_left and data.endswith(b"\n")):
            self._lines_left -= newlines
            return self.buffer.write(data)
        # The chunk ends the last line kept and starts one more row: keep up to that line's end.
        end = -1
        for _ in range(self._lines_left):
            end = data.index(b"\n", end + 1)
        self.buffer.write(data[:end + 1])
        self._lines_left = 0
        raise _TooManyRows


class _RowBound(io.RawIOBase):
    """A sink for results written straight in their final format, which stops the writer once an
    upper bound on the rows written, read off the text as it comes, passes `max_rows`.

    The bound counts what each row writes at least once and nothing can fake (pyoxigraph escapes
    `"` in JSON strings and `<` in XML text): in JSON the objects that are not RDF terms (a row,
    the three of the frame, a triple term's parts), in XML the `<result>` elements, in CSV the
    line ends (a value's line break counts one more). A pattern cut across two chunks is seen
    with the tail of the chunk before. The bound may only be too high: the exact count (TSV) is
    then made instead.
    """

    def __init__(self, max_rows: int, results: ox.QueryResultsFormat) -> None:
        self.buffer = io.BytesIO()
        self._results = results
        self._left = max_rows + _FRAME[results]
        self._tail = b""

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        data = bytes(chunk)
        if self._results is ox.QueryResultsFormat.JSON:
            seen = self._tail + data
            rows = data.count(b"{") - seen.count(b'{"type":"')
            self._tail = seen[-8:]
        elif self._results is ox.QueryResultsFormat.XML:
            seen = self._tail + data
            rows = seen.count(b"<result>")
            self._tail = seen[-7:]
        else:
            rows = data.count(b"\n")
        self._left -= rows
        if self._left < 0:
            raise _TooManyRows
        return self.buffer.write(data)


_FRAME = {ox.QueryResultsFormat.JSON: 3, ox.QueryResultsFormat.XML: 0,
          ox.QueryResultsFormat.CSV: 1}
"""What the bound of _RowBound counts outside the rows: JSON's frame objects (the document,
"head", "results"), CSV's header line."""


def select_rows(body: bytes) -> list[dict]:
    """The rows of a SELECT's answer in SPARQL JSON: pyoxigraph terms by variable name."""
    solutions = cast(ox.QuerySolutions,  # a SELECT's answer
                     ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))
    names = [v.value for v in solutions.variables]
    # A solution iterates its values in the order of the variables (None where unbound):
    # zipped, a third less CPU than looking each up by name (a page's rows are made this way).
    return [dict(zip(names, s, strict=True)) for s in solutions]


def _serialize_bounded(result: ox.QuerySolutions, fmt: Format, max_rows: int
                       ) -> Serialized | None:
    """The result in its format in one pass, if it has at most `max_rows` rows (else None)."""
    sink = _RowBound(max_rows, cast(ox.QueryResultsFormat, fmt.results))
    try:
        # _RowBound is a binary file, which the IO[bytes] of the stub does not see
        result.serialize(cast(IO[bytes], sink), format=fmt.results)
    except _TooManyRows:
        return None
    return Serialized(sink.buffer.getvalue(), _with_charset(fmt), False)


def serialize_result(result, fmt: Format, max_rows: int, rerun=None,
                     direct: bool = False) -> Serialized:
    """Serialize any pyoxigraph query result, cut to `max_rows` solutions or triples.

    `rerun()` gives the same result again; it is needed when a lazily parsed (remote) answer turns
    out to be cut off, to serve the rows before the cut. A SELECT is written as TSV (its rows
    counted exactly as they are written, and the writer stopped past the limit), then converted
    to its format. With `direct` (and `rerun`), it is first written straight in its format, in
    one pass, and only a result that may have more than `max_rows` rows is run again to be cut
    exactly: for queries known to be cheap (graph.store.lanes), for which a second run costs less
    than writing every answer twice.
    """
    if isinstance(result, ox.QueryBoolean):
        body = cast(bytes, result.serialize(format=fmt.results))  # no output: returns bytes
        return Serialized(body, _with_charset(fmt), rows=1)
    if not isinstance(result, ox.QuerySolutions):  # CONSTRUCT or DESCRIBE: triples
        triples = list(itertools.islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body = cast(bytes, ox.serialize(triples[:max_rows], format=fmt.rdf))
        return Serialized(body, _with_charset(fmt), truncated, min(len(triples), max_rows))
    if direct and rerun is not None and fmt.results in _FRAME:
        try:
            once = _serialize_bounded(result, fmt, max_rows)
        except SyntaxError:
            return _serialize_cut(rerun(), fmt, max_rows)  # a lazily parsed answer, cut off
        if once is not None:
            return once
        result = rerun()
    # All in pyoxigraph: write TSV (one line per row, so rows can be counted as they are
    # written), stop one row past the limit keeping the rows before it, and convert that TSV to
    # the requested format.
    sink = _RowBudget(max_rows)
    truncated = False
    try:
        # _RowBudget is a binary file, which the IO[bytes] of the stub does not see
        result.serialize(cast(IO[bytes], sink), format=ox.QueryResultsFormat.TSV)
    except _TooManyRows:
        truncated = True
    except SyntaxError:
        # A lazily parsed answer that was cut off; its first rows may still serve.
        if rerun is None:
            raise
        return _serialize_cut(rerun(), fmt, max_rows)
    tsv = sink.buffer.getvalue()
    if fmt.results is ox.QueryResultsFormat.TSV:
        return Serialized(tsv, _with_charset(fmt), truncated)
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return Serialized(cast(bytes, parsed.serialize(format=fmt.results)), _with_charset(fmt),
                      truncated)


def _serialize_cut(result: ox.QuerySolutions, fmt: Format, max_rows: int) -> Serialized:
    names = [v.value for v in result.variables]
    bindings = []
    for solution in itertools.islice(result, max_rows):
        bindings.append({n: _json_term(solution[n]) for n in names if solution[n] is not None})
    # pyoxigraph serializes only whole result iterators, so a cut result is written as SPARQL JSON
    # (a plain mapping of the bindings) and converted to other formats by pyoxigraph's own writers.
    body = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt.results is not ox.QueryResultsFormat.JSON:
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        body = cast(bytes, parsed.serialize(format=fmt.results))
    return Serialized(body, _with_charset(fmt), True, len(bindings))


def _with_charset(fmt: Format) -> str:
    textual = fmt.media_type.startswith("text/") or fmt.name in ("json", "jsonld", "nt", "nq")
    return f"{fmt.media_type}; charset=utf-8" if textual else fmt.media_type


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {
            "subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
            "object": _json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")
