"""Rendered pages kept until a write changes them, so a page is computed once per change.

Why it is built this way: an entity page (HTML or an RDF form) is a function of the data
version, the resource, the representation and its page parameters, nothing else: the same
request between two writes gets the same bytes (its ETag says so already). What it costs to make
grows with the resource: Kaohsiung's page at world scale runs four queries over thousands of
relations and renders them, about 60 ms, where an ordinary city's takes a few. Kept here, a page
asked again (a researcher going back, a crawler, a link shared on a busy day) costs a dictionary
look-up until a write changes it (`X-Page-Cache: hit` says so); the same request again is sent
from a note of what was sent, without the application (server/replay.py, `still`). The pages
are held in one LRU bounded in bytes (`CITYDIP_PAGE_CACHE_MB`; 0 turns it off).

What a write drops: each kept page says which resource it is about (an entity page, or the
answer of a named query whose header says `about: <parameter>`: it reads only what that
resource's entity page reads, such as `partners-of`), which triple patterns it reads (an
answer of the endpoint, server/kept_queries.py), or that it depends on the whole graph
(neither: pages of a named query's rows, which a query such as `partner-links-beyond` must
sort whole before giving the first). After a commit the writer works out, from the change and
under the write lock, the resources whose pages it can change (server/page_reach.py) and the
IRIs it touched, and `advance` drops those pages, the answers whose patterns those IRIs may
match and every whole-graph page, in the same step of the event loop as the data version
moves. Where the change is not known here
(the remote backend: the store may be written from elsewhere) or too large to follow, every
page is dropped, as before. So an answer never differs from what the current data would make.
A version missed (the cache moved on without being told what changed) drops every page too.
A page made by a request during which commits landed is kept only if it is about one resource
and none of those commits reached it: its queries then read the same triples whichever version
each of them saw, so the page is the one the current data makes. At six writes a second a page
made anew under load takes longer than the gap between two commits, and keeping none of them
made every such page again at each request (world scale, 16 readers and two editors: a page's
p50 540 ms during the writes against 5 ms without them). A page about the whole graph, or one
begun before a version this cache was not told the reach of, is not kept, nor one built from a
view served from an older version (a kept answer still being recomputed).

Validators: the entity routes' ETag stays per data version (server/routes/entities.py), so a
kept page's validators are those of the current version; a body kept across a write is the one
the current data makes, so its new ETag is honest, and a client's old ETag is not matched.

One process: the server runs as one uvicorn process (the query workers are separate processes,
but they never see this cache), so this one in-process cache is the only one to keep current.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response

from graph.sparql.patterns import Pattern, Touched
from server.replay import answered_from


@dataclass(frozen=True)
class Kept:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]
    about: str | None = None
    """The IRI of the resource the page is about; None: it depends on the whole graph (unless
    `reads` says what it reads)."""
    reads: tuple[Pattern, ...] | None = None
    """The triple patterns an endpoint's answer reads (graph.sparql.patterns)."""
    key: tuple = ()
    """What it is found by (`page_key`)."""

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status)
        response.raw_headers = [*self.headers, (b"x-page-cache", b"hit")]
        return response


def changes(about: str | None, reads: tuple[Pattern, ...] | None, reached: set[str] | None,
            touched: Touched | None) -> bool:
    """Whether a write that reached the pages of the resources `reached` and touched the IRIs
    `touched` (None: not known, so yes) can change a page about `about` or an answer that reads
    `reads` (neither: a page about the whole graph, which every write changes)."""
    if reads is not None:
        return touched is None or touched.reaches(reads)
    return about is None or reached is None or about in reached


class PageCache:
    """Responses by key, current at `version`, least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version: int | None = None
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._kept: OrderedDict[tuple, Kept] = OrderedDict()
        self._reached: deque[tuple[int, set[str], Touched | None]] = deque(maxlen=REACH_HISTORY)
        """The resources each recent version reached and the IRIs it touched, in order, up to
        `version`, without a gap."""

    def __len__(self) -> int:
        return len(self._kept)

    def _at(self, version: int) -> None:
        if version != self.version:
            self._kept.clear()
            self._reached.clear()
            self.size, self.version = 0, version

    def advance(self, previous: int, version: int, reached: set[str] | None,
                touched: Touched | None = None) -> None:
        """The data moved from `previous` to `version`: drop the pages of the resources
        `reached` (None: every page), the answers whose patterns the IRIs `touched` may match
        (None: every answer) and every page about the whole graph."""
        if reached is None or self.version != previous:
            self._at(version)
            return
        for key, kept in list(self._kept.items()):
            if changes(kept.about, kept.reads, reached, touched):
                del self._kept[key]
                self.size -= len(kept.body)
        self.version = version
        self._reached.append((version, reached, touched))

    def unreached_since(self, version: int, about: str | None,
                        reads: tuple[Pattern, ...] | None = None) -> bool:
        """Whether every version after `version` up to the current one is known here and none
        reached the page of `about` or the patterns `reads` (neither: a whole-graph page,
        which every version reaches)."""
        if (about is None and reads is None) or self.version is None or version > self.version:
            return False
        after = [(reached, touched) for v, reached, touched in self._reached if v > version]
        return len(after) == self.version - version and not any(
            changes(about, reads, reached, touched) for reached, touched in after)

    def get(self, version: int, key: tuple) -> Kept | None:
        self._at(version)
        kept = self._kept.get(key)
        if kept is None:
            self.misses += 1
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return kept

    def still(self, version: int, kept: Kept) -> bool:
        """Whether `kept` is still the page kept for its key at `version` (counted as a hit,
        as `get` counts one): no write has reached it and it was not pushed out."""
        self._at(version)
        if self._kept.get(kept.key) is not kept:
            return False
        self._kept.move_to_end(kept.key)
        self.hits += 1
        return True

    def put(self, version: int, key: tuple, response: Response, about: str | None = None,
            reads: tuple[Pattern, ...] | None = None) -> None:
        body = getattr(response, "body", None)
        if not self.max_bytes or response.status_code != 200 or not isinstance(body, bytes):
            return
        if self.version is None:
            self._at(version)
        if len(body) > self.max_bytes // 4:
            return  # too large to be worth a quarter of the room
        if version != self.version and not self.unreached_since(version, about, reads):
            return  # made across a commit that may have changed it
        old = self._kept.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self._kept[key] = Kept(response.status_code, body, list(response.raw_headers), about,
                               reads, key)
        response.headers["X-Page-Cache"] = "miss"
        self.size += len(body)
        while self.size > self.max_bytes and self._kept:
            _, dropped = self._kept.popitem(last=False)
            self.size -= len(dropped.body)


REACH_HISTORY = 256
"""Versions whose reach is remembered: a page begun further back is not kept (at six writes a
second, 40 s)."""


def page_cache(request: Request) -> PageCache:
    state = request.app.state
    cache = getattr(state, "page_cache", None)
    if cache is None:
        cache = state.page_cache = PageCache(int(state.settings.page_cache_mb * 2**20))
    return cache


def page_key(request: Request, representation: str) -> tuple:
    """What a kept page is found by: the path, its parameters, the representation, the mount."""
    return (request.scope.get("root_path", ""), request.url.path, request.url.query,
            representation)


def pages_follow(app, previous: int, version: int, reached: set[str] | None,
                 touched: Touched | None = None) -> None:
    """After a commit: the kept pages follow the data from `previous` to `version`."""
    cache = getattr(app.state, "page_cache", None)
    if cache is not None:
        cache.advance(previous, version, reached, touched)


async def kept_or_made(request: Request, representation: str,
                       make: Callable[[], Awaitable[Response]],
                       about: str | None = None,
                       reads: tuple[Pattern, ...] | None = None) -> Response:
    """The kept page for this request, or `make()`'s, kept for the next one (if it is a 200).

    `about`: the IRI of the resource the page shows (an entity page), kept across writes that
    do not reach it; `reads`: the triple patterns an answer reads, kept across writes that do
    not touch them; neither for a page that depends on the whole graph."""
    version, cache = getattr(request.app.state, "data_version", 0), page_cache(request)
    key = page_key(request, representation)
    kept = cache.get(version, key)
    if kept is not None:
        answered_from(request, kept, version)
        return kept.response()
    response = await make()
    if getattr(request.state, "described_version", version) == version:  # not a stale view's
        cache.put(version, key, response, about, reads)
    return response
