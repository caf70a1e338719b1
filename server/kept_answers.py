"""Named queries over the whole graph whose HTML pages are cut from one answer kept per version.

Why: a query such as `partner-links-beyond` groups every pair of partners of the graph and sorts
them by name before it can give its first row. Each page of it asked the engine for the whole
answer again and cut one page out; at 5M triples that took longer than a visitor's query may
(CITYDIP_QUERY_TIMEOUT), so every page answered 503. Such a query is a derived view, like the
front page's counts: its header says `paging: {kept: true}`, and its ordered answer (the first
CITYDIP_MAX_ROWS rows, as the JSON and CSV forms give) is computed once per data version by the
server itself (`server.cache.Derived`: the time limit of the server's own queries,
CITYDIP_DERIVED_QUERY_TIMEOUT, charged to no visitor), kept on disk beside the network results
so that a restart reads it back, and recomputed in the background after writes while the
previous version's answer is served with its version stated. Each page is then a slice.

A first computation that takes longer than a second (or than a visitor's query may) answers
202 with `Retry-After` and a page that says the answer is being computed and reloads itself;
the computation goes on. At most CITYDIP_KEPT_ANSWERS answers (one per query and parameters) are
kept, the least recently asked dropped first, so that varying a parameter cannot fill memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict

from fastapi import Request

from graph.sparql.catalogue import NamedQuery
from graph.sparql.formats import select_rows
from graph.store.execution import QueryJob
from server.cache import derived, per_data_version
from server.versions import described

FIRST_WAIT = 1.0
"""Seconds a visitor waits for a first answer before the page says it is being computed."""


class StillComputing(Exception):
    """The first answer is not ready within a visitor's time: say so and come back."""


def kept(query: NamedQuery) -> bool:
    return bool(query.paging and query.paging.get("kept"))


def _key(query: NamedQuery, bindings: dict) -> str:
    given = json.dumps(sorted((k, str(v)) for k, v in bindings.items()))
    return f"named-query:{query.name}:{hashlib.sha256(given.encode()).hexdigest()[:16]}"


async def answer_rows(request: Request, query: NamedQuery, bindings: dict) -> list[dict]:
    """The kept ordered rows of `query` with `bindings` (the first CITYDIP_MAX_ROWS + 1, so a
    page can tell that more follow), computed on first use; `StillComputing` when that takes
    longer than FIRST_WAIT or CITYDIP_QUERY_TIMEOUT."""
    app, settings = request.app, request.app.state.settings
    key = _key(query, bindings)
    keeper = derived(app)
    keeper.keep_on_disk(key)
    _remember(app, key, settings.kept_answers)

    async def compute() -> str:
        outcome = await app.state.backend.execute(QueryJob(
            query.page_text(settings.max_rows + 1, 0), bindings, format="json",
            max_rows=settings.max_rows + 1, background=True))
        if outcome.status != 200:
            raise RuntimeError(outcome.message)
        body = outcome.body
        return body.decode("utf-8") if isinstance(body, bytes) else str(body)

    waiting = asyncio.ensure_future(per_data_version(request, key, compute))
    try:
        # shielded: a visitor who stops waiting does not stop the computation
        text = await asyncio.wait_for(asyncio.shield(waiting),
                                      min(settings.query_timeout, FIRST_WAIT))
    except TimeoutError:
        waiting.add_done_callback(_quiet)
        raise StillComputing(query.name) from None
    return _parsed(app, key, described(request)[0], text)


def _quiet(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # a failure is logged by the keeper; here it is only collected


def _kept(app, name: str) -> OrderedDict:
    found = getattr(app.state, name, None)
    if found is None:
        found = OrderedDict()
        setattr(app.state, name, found)
    return found


def _parsed(app, key: str, version, text: str) -> list[dict]:
    """The rows of a kept answer, parsed once per version (the few most recent kept)."""
    parsed = _kept(app, "kept_answers_parsed")
    digest = (key, version)
    rows = parsed.get(digest)
    if rows is None:
        rows = parsed[digest] = select_rows(text.encode("utf-8"))
        while len(parsed) > 4:
            parsed.popitem(last=False)
    parsed.move_to_end(digest)
    return rows


def _remember(app, key: str, most: int) -> None:
    """Note that `key` was asked for; drop the least recently asked answers past `most`."""
    order = _kept(app, "kept_answers_order")
    order[key] = None
    order.move_to_end(key)
    while len(order) > max(1, most):
        old, _ = order.popitem(last=False)
        derived(app).forget(old)
