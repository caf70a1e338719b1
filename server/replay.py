"""Kept answers sent again without going through the framework.

Why: a read answered from the kept pages (server/page_cache.py) still went the whole way through
the application: the middlewares, the router trying the routes in turn, FastAPI solving the
route's parameters, content negotiation, the page's key and validators, then the same bytes
as last time. Measured on the world lists (16 readers, one address), that was 190–260 µs of the
serving process per kept read, against 60–65 µs for uvicorn alone sending the same bytes; and
that process is the one the readers and the editors share, so its cost per kept read is what
bounds both. A kept read that skips the application costs 80–100 µs
(benchmarks/kept_reads.py).

How it stays exact: the first time a GET is answered from a kept page, this middleware notes
what was sent (status and headers) under the request's whole identity (path, query string,
scheme, root path and every header except those that change nothing in an answer:
`User-Agent`, `Connection`, `Accept-Encoding`). The same request again is answered with those
headers and the kept page's body as long as that kept page is still the one kept for its key
at the current data version (`PageCache.still`: no write reached it, it was not pushed out);
otherwise the note is dropped and the request goes the whole way. A header that follows the data
version (an entity page's `ETag` and `Last-Modified`) is noted as such by the route and made
anew for the current version; an answer that states its version (`X-Data-Version`) is not
noted. Requests whose answer depends on more than their identity and the data never take this
path: conditional requests (`If-None-Match`, `If-Modified-Since`, ...: the route answers 304),
cross-origin ones (`Origin`), those with credentials (`Authorization`, `Cookie`), a body or a
range, and HEAD. At most two notes per kept page (and at least 1,024) are held, the least
recently used dropped first; a note holds headers only, never a body.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from server.page_cache import Kept

IGNORED = frozenset({b"user-agent", b"connection", b"accept-encoding"})
"""Request headers that change nothing in an answer (the server does not compress)."""

REFUSED = frozenset({b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since",
                     b"if-range", b"range", b"origin", b"authorization", b"cookie",
                     b"content-length", b"transfer-encoding"})
"""Request headers whose answer is not the kept page's as it was sent before."""

STATED_VERSION = (b"x-data-version", b"x-current-data-version")

MIN_NOTES = 1024


@dataclass
class Note:
    kept: weakref.ref
    """The kept page the answer was sent from (not held: a page pushed out is let go)."""
    version: int
    """The data version the headers were sent at."""
    headers: list[tuple[bytes, bytes]]
    refresh: Callable[[Any], list[tuple[bytes, bytes]]] | None
    """Headers that follow the data version, made for the app's current one; None: none do."""


def answered_from(request, kept: Kept, version: int) -> None:
    """Say that this request is answered from `kept` at `version` (server/page_cache.py)."""
    request.scope.setdefault("state", {})["replay_of"] = (kept, version)


def follows_version(request, refresh: Callable[[Any], list[tuple[bytes, bytes]]]) -> None:
    """Say that some of this answer's headers follow the data version: `refresh(app.state)`
    gives them for the current one (replacing those of the same names)."""
    request.scope.setdefault("state", {})["replay_refresh"] = refresh


def identity(scope: Scope) -> tuple | None:
    """What a GET is answered by, or None when its answer may depend on more."""
    if scope["method"] != "GET":
        return None
    headers = []
    for name, value in scope["headers"]:
        if name in IGNORED:
            continue
        if name in REFUSED:
            return None
        headers.append((name, value))
    return (scope["path"], scope["query_string"], scope.get("scheme"), scope.get("root_path", ""),
            tuple(sorted(headers)))


class Replay:
    """ASGI middleware: a GET answered before from a kept page that is still current is sent
    again from the note of what was sent."""

    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled
        self.notes: OrderedDict[tuple, Note] = OrderedDict()
        self.replayed = 0
        """Answers sent from notes (the app's `state.replay` is this middleware)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = identity(scope) if scope["type"] == "http" and self.enabled else None
        if key is None:
            await self.app(scope, receive, send)
            return
        note = self.notes.get(key)
        if note is not None:
            state = scope["app"].state
            kept = note.kept()
            cache = getattr(state, "page_cache", None)
            version = getattr(state, "data_version", 0)
            if kept is not None and cache is not None and cache.still(version, kept):
                self.notes.move_to_end(key)
                self.replayed += 1
                headers = note.headers
                if note.refresh is not None and note.version != version:
                    fresh = dict(note.refresh(state))
                    headers = [(name, fresh.get(name, value)) for name, value in headers]
                    note.headers, note.version = headers, version
                await send({"type": "http.response.start", "status": kept.status,
                            "headers": headers})
                await send({"type": "http.response.body", "body": kept.body})
                return
            del self.notes[key]
        await self._noting(key, scope, receive, send)

    async def _noting(self, key: tuple, scope: Scope, receive: Receive, send: Send) -> None:
        """The whole way; the answer noted if it was a kept page sent as it is kept."""
        sent: dict[str, Any] = {}

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"], sent["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                sent["body"] = (message.get("body", b""), message.get("more_body", False))
            await send(message)

        state, app_state = scope.setdefault("state", {}), scope["app"].state
        app_state.replay = self
        await self.app(scope, receive, watching)
        answered = state.get("replay_of")
        if answered is None or "body" not in sent:
            return
        kept, version = answered
        body, more = sent["body"]
        headers = list(sent["headers"])
        if (sent["status"] != kept.status or more or body is not kept.body
                or any(name in STATED_VERSION for name, _ in headers)):
            return  # not the kept page as it is kept (a route changed it), or a stated version
        self.notes[key] = Note(weakref.ref(kept), version, headers, state.get("replay_refresh"))
        cache = getattr(app_state, "page_cache", None)
        most = max(MIN_NOTES, 2 * len(cache)) if cache is not None else MIN_NOTES
        while len(self.notes) > most:
            self.notes.popitem(last=False)
