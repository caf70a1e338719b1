"""The endpoint's repeated queries: their answers kept until a write touches what they read.

Why: a researcher's notebook, a dashboard or a crawler asks the same query again and again,
and an entity page's lookups repeat across visitors. Their answers were computed anew each
time, and while editors wrote, each went through a thread whose hand-off back to the busy event
loop cost it most of its time: at world scale, with two editors writing six times a second, a
lookup about one city took 33 ms (p50) against 5 ms without writes, though no write touched
that city (docs/benchmarks.md, "A live service"). Public endpoints keep answers for a time
(the Wikidata Query Service caches a GET for five minutes); here an answer is kept exactly as
long as it is the current data's: until a write adds or removes a quad that one of the query's
triple patterns may match (graph.sparql.patterns), the same rule as the entity pages' (they are
kept in the same bounded cache, server/page_cache.py, `X-Page-Cache: hit`).

Which answers: those of a GET (as for HTTP caches) whose text is at most REPEAT_CHARS long and
was seen before (its patterns cost a parse, 2 ms for a lookup, done in a thread and
remembered), on a store whose every change the server knows (the embedded store: a remote
one may be written from elsewhere), without `Cache-Control: no-cache` (which asks for an answer
computed now), and whose value does not change by itself (NOW(), RAND(), ...).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from fastapi import Request

from graph.sparql.patterns import Pattern, answer_patterns
from graph.store.lanes import REPEAT_CHARS  # as the inline repeats: longer texts are not kept

REMEMBERED = 4096
"""Query texts remembered as seen, and as many with their patterns (the oldest forgotten)."""


class Repeats:
    """Texts seen once, and the patterns of those seen again (None: not to be kept)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._reads: OrderedDict[str, tuple[Pattern, ...] | None] = OrderedDict()

    async def reads(self, text: str) -> tuple[Pattern, ...] | None:
        """What `text` reads if its answer is to be kept; None on its first sight, or never."""
        if text in self._reads:
            self._reads.move_to_end(text)
            return self._reads[text]
        if text not in self._seen:
            _remember(self._seen, text, None)
            return None
        reads = await asyncio.to_thread(answer_patterns, text)
        # Another request for the same text may have parsed it meanwhile: the same patterns.
        self._seen.pop(text, None)
        _remember(self._reads, text, reads)
        return reads


def _remember(found: OrderedDict, text: str, value) -> None:
    found[text] = value
    if len(found) > REMEMBERED:
        found.popitem(last=False)


async def kept_reads(request: Request, text: str) -> tuple[Pattern, ...] | None:
    """The patterns by which this GET query's answer is kept, or None: not kept."""
    state = request.app.state
    if (request.method != "GET" or len(text) > REPEAT_CHARS
            or not getattr(state.backend, "changes_known", False)
            or "no-cache" in request.headers.get("cache-control", "").lower()
            or not state.settings.page_cache_mb):
        return None
    repeats = getattr(state, "repeats", None)
    if repeats is None:
        repeats = state.repeats = Repeats()
    return await repeats.reads(text)
