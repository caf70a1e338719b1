"""Bounds on what a client may send, checked before any parser that could be made to blow up.

Every parser of client input here is a recursive-descent or recursive parser (rdflib's pyparsing
grammar, Oxigraph's SPARQL and JSON-LD parsers) or expands what it reads (RDF/XML entities). Fed
a deep enough nesting they overflow the stack (the process dies), raise RecursionError, or take
time polynomial in the depth (Oxigraph's SPARQL parser needs a minute for 200 nested `[`); fed
an entity declaration nesting others ("billion laughs") an RDF/XML parser expands a kilobyte into
gigabytes. None of that can be stopped once started (pyoxigraph cannot be interrupted), so the
text is checked first, by cheap linear scans:

- `nesting_depth` counts the brackets `{ ( [` outside strings, IRIs and comments with the
  lexical rules SPARQL and Turtle share. Where a `<` could be an IRI or the less-than operator,
  the count takes whichever reading nests deeper, so the scan never reports less nesting than a
  parser would see (it may report more for an IRI with unbalanced brackets in it, which no real
  query has).
- `json_depth` does the same for JSON (JSON-LD payloads, changeset documents): Python's `json`
  itself raises RecursionError past about a thousand levels.
- `check_xml` reads the prolog and the elements with expat (the C parser of the standard library,
  in the spirit of defusedxml): a document type declaration (where entities are declared) is
  refused outright, before the RDF/XML parser sees a byte, and elements may nest only so deep.

Payload size in bytes, triples per request and the memory a payload's parse may add to the
process are the other bounds (`graph.core.settings`); `MemoryBudget` watches the last one while a
payload is parsed as a stream.
"""

from __future__ import annotations

import os
import re
from xml.parsers import expat

import pyoxigraph as ox


class LimitExceeded(ValueError):
    """The input passes a bound: the message says which, and the setting that sets it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- SPARQL and Turtle ------------------------------------------------------------------------

_INTERESTING = re.compile(r"""[#"'<{}()\[\]]""")
_IRIREF = re.compile(r"""<[^<>"{}|^`\\\x00-\x20]*>""")
_SHORT = {'"': re.compile(r'"(?:[^"\\\n\r]|\\.)*"', re.S),
          "'": re.compile(r"'(?:[^'\\\n\r]|\\.)*'", re.S)}
_LONG = {'"': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""', re.S),
         "'": re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*'''", re.S)}
_OPEN, _CLOSE = "{([", "})]"


def nesting_depth(text: str, stop_above: int | None = None) -> int:
    """The deepest nesting of `{ ( [` in SPARQL or Turtle text (strings, IRIs, comments skipped).

    Linear in the text; stops early once the depth passes `stop_above`.
    """
    depth = deepest = 0
    i = 0
    search = _INTERESTING.search
    while True:
        m = search(text, i)
        if m is None:
            return deepest
        i = m.start()
        c = text[i]
        if c in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
            i += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
            i += 1
        elif c == "#":
            end = text.find("\n", i)
            if end < 0:
                return deepest
            i = end + 1
        elif c == "<":
            iri = _IRIREF.match(text, i)
            if iri is None:
                i += 1  # the less-than operator
                continue
            # An IRI (no effect) or `<` as less-than followed by brackets: count the deeper.
            span = text[i + 1:iri.end() - 1]
            i = iri.end()
            if "(" not in span and "[" not in span:
                continue  # no bracket opens: as an IRI or not, the depth cannot rise
            level, peak = depth, depth
            for ch in span:
                if ch in "([":
                    level += 1
                    peak = max(peak, level)
                elif ch in ")]":
                    level = max(0, level - 1)
            deepest = max(deepest, peak)
            depth = max(depth, level)
            if stop_above is not None and deepest > stop_above:
                return deepest
        else:  # a quote: a string, short or long
            long = _LONG[c].match(text, i) if text.startswith(c * 3, i) else None
            string = long or _SHORT[c].match(text, i)
            if string is None:
                if text.startswith(c * 3, i):
                    return deepest  # a long string never closed: the parser stops there
                i += 1  # a broken short string: keep counting (counting more is the safe side)
                continue
            i = string.end()


def check_nesting(text: str, limit: int, what: str = "query") -> None:
    """Refuse (400) text nesting `{ ( [` deeper than `limit`."""
    if nesting_depth(text, stop_above=limit) > limit:
        depth = nesting_depth(text)  # counted in full only for the message of a refusal
        raise LimitExceeded(f"the {what} nests {depth} levels of {{ }}, ( ) or [ ]; the limit "
                            f"is {limit} (CITYDIP_MAX_NESTING)")


# --- JSON -------------------------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth(text: str | bytes, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped); linear."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        elif c in "]}":
            depth = max(0, depth - 1)
    return deepest


def check_json(text: str | bytes, limit: int, what: str = "JSON") -> None:
    if json_depth(text, stop_above=limit) > limit:
        depth = json_depth(text)
        raise LimitExceeded(f"the {what} nests {depth} levels of arrays and objects; the limit "
                            f"is {limit} (CITYDIP_MAX_NESTING)")


# --- XML --------------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def check_xml(data: str | bytes, limit: int) -> None:
    """Refuse XML with a document type declaration (entities), or nesting deeper than `limit`.

    Read by expat with every handler that could expand or fetch anything refusing: a DOCTYPE
    (internal entities, external DTDs), entity declarations and external entity references.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0
    refused: list[str] = []

    def doctype(name, *_):
        refused.append(f"the RDF/XML payload declares a document type (<!DOCTYPE {name}>): "
                       "DTDs and entity declarations are refused, as they can expand a few bytes "
                       "into gigabytes or read other files; write the values out")
        raise _Stop

    def entity(name, *_):
        refused.append(f"the RDF/XML payload declares an entity ({name}); entity declarations "
                       "are refused")
        raise _Stop

    def start(_name, _attrs):
        nonlocal depth
        depth += 1
        if depth > limit:
            refused.append(f"the RDF/XML payload nests elements more than {limit} levels deep; "
                           f"the limit is {limit} (CITYDIP_MAX_NESTING)")
            raise _Stop

    def end(_name):
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = lambda *_: entity("external")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Stop:
        raise LimitExceeded(refused[0]) from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise LimitExceeded(f"the RDF/XML payload declares an unknown encoding ({exc}); send "
                            "it as UTF-8") from None
    except expat.ExpatError as exc:
        if refused:
            raise LimitExceeded(refused[0]) from None
        raise LimitExceeded(f"the RDF/XML payload is not well-formed XML: "
                            f"{expat.ErrorString(exc.code)} at line {exc.lineno}, column "
                            f"{exc.offset + 1}") from None


# --- memory -----------------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """This process's resident memory, from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class MemoryBudget:
    """How much a streamed parse has added to the process's resident memory, against a budget.

    `check()` is called every few thousand items; past the budget it raises LimitExceeded (413).
    Memory freed to the allocator and reused is not counted twice: growth is measured against the
    resident size when the budget was opened.
    """

    def __init__(self, megabytes: int, what: str = "the payload") -> None:
        self.limit = megabytes * 2**20
        self.what = what
        self.start = resident_bytes()

    def check(self) -> None:
        if self.start is None or self.limit <= 0:
            return
        now = resident_bytes()
        if now is not None and now - self.start > self.limit:
            raise LimitExceeded(
                f"reading {self.what} needs more than {self.limit // 2**20} MB of memory; the "
                "limit is CITYDIP_REQUEST_MEMORY_MB: send it in smaller parts", 413)


# --- the bounds of one request, from the settings ---------------------------------------------


class Bounds:
    """The limits a request is held to (`Bounds.of(settings)`; the defaults are the settings')."""

    def __init__(self, max_nesting: int = 32, max_triples: int = 100_000,
                 memory_mb: int = 512, max_update_bytes: int = 262_144) -> None:
        self.max_nesting = max_nesting
        self.max_triples = max_triples
        self.memory_mb = memory_mb
        self.max_update_bytes = max_update_bytes

    @classmethod
    def of(cls, settings) -> Bounds:
        return cls(settings.max_nesting, settings.max_write_triples, settings.request_memory_mb,
                   settings.max_update_bytes)

    def check_update_size(self, text: str) -> None:
        """A SPARQL Update longer than the limit is refused before it is parsed: its parser
        (rdflib's, pure Python) spends about 7.5 µs of CPU a byte under the write lock."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if self.max_update_bytes and size > self.max_update_bytes:
            raise LimitExceeded(f"the update is {size} bytes; the limit is "
                                f"{self.max_update_bytes} (CITYDIP_MAX_UPDATE_BYTES): send bulk "
                                "data to /store or /changes, which take the whole body size", 413)

    def check_rdf(self, data: str | bytes, fmt: ox.RdfFormat) -> None:
        """The checks an RDF payload passes before it is parsed, by format."""
        if fmt == ox.RdfFormat.RDF_XML:
            check_xml(data, self.max_nesting)
            return
        if fmt == ox.RdfFormat.JSON_LD:
            check_json(data, self.max_nesting, "JSON-LD payload")
            return
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        # Turtle and TriG nest [ ] and ( ); N-Triples and N-Quads nest triple terms <<( )>>.
        check_nesting(text, self.max_nesting, "payload")

    def too_many(self, what: str = "the payload") -> LimitExceeded:
        return LimitExceeded(f"{what} holds more than {self.max_triples} triples; the limit is "
                             f"{self.max_triples} per request (CITYDIP_MAX_WRITE_TRIPLES): send "
                             "it in several requests", 413)
