"""An entity page's long lists, read in two steps: the keys of the whole list, then one page.

Why: a hub of the million-triple graph is a party to 525 partnerships and stands behind 1,364
source passages. Read whole with their details (participants, kinds and status; quotes and report
titles), they took 0.5 s and 0.8 s of the page made anew, for a page that shows 50 partnerships
and 20 passages. So each is read first as its order keys only (`entity-partnerships-keys`:
partnership and first date; `entity-passages`: statement, passage and first line), sorted here
in the engine's order (`server.page_queries.in_order`), and cut to one page; then the details
of only those rows are read with `VALUES` (`entity-partnerships` itself, `passages`). The rows
of a page are the ones the one-step query gave, in the same order (tests/unit/test_page_order.py
compares both ways over the bundled data).

The statements in and out of a resource are read in one step. Their keys would be their rows
but the resource (and, out, the graphs that state each): measured at the hub (2,591 statements
in, 875 out), keys and a page of details cost 33 ms of CPU against 36 ms in one step in, 13
against 18 out (docs/benchmarks.md), not worth a second query waiting for a worker.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from fastapi import Request

from graph.sparql.catalogue import get_query
from graph.sparql.text import bind_rows
from server.page_queries import in_order, page_query, rows_in_order, unordered

KEYED = {"entity-partnerships": ("entity-partnerships-keys", ("partnership",))}
"""Page lists read in two steps: the query of their keys and the variables that name a row."""


async def paged_rows(request: Request, name: str, iri: str, number: int,
                     size: int) -> tuple[list[dict], bool]:
    """One page of a page query's rows and whether more follow: sorted here when the whole list
    (or its keys) is at most CITYDIP_MAX_ROWS (see `rows_in_order`), else by the engine
    (LIMIT/OFFSET)."""
    start = (number - 1) * size
    if name in KEYED:
        keys_name, columns = KEYED[name]
        keys, more = await one_page(request, keys_name, iri, start, size)
        if not any(isinstance(row[c], ox.BlankNode) for row in keys for c in columns):
            return await details(request, name, iri, columns, keys), more
        # A blank node cannot be named in VALUES: this page is read in one step.
    return await one_page(request, name, iri, start, size)


async def one_page(request: Request, name: str, iri: str, start: int,
                   size: int) -> tuple[list[dict], bool]:
    query = page_query(request, name)
    every = await rows_in_order(request, query, {"resource": iri})
    if every is not None:
        return every[start:start + size], len(every) > start + size
    text = f"{query.text.rstrip()}\nLIMIT {size + 1} OFFSET {start}\n"
    rows = await request.app.state.backend.select(text, query.bindings({"resource": iri}))
    return rows[:size], len(rows) > size


async def details(request: Request, name: str, iri: str, columns: tuple[str, ...],
                  keys: list[dict]) -> list[dict]:
    """The rows of page query `name` for the keyed rows of one page, in its order."""
    if not keys:
        return []
    query = page_query(request, name)
    text, order = unordered(query)
    text = bind_rows(text, columns, [[row[c] for c in columns] for row in keys])
    rows = await request.app.state.backend.select(text, query.bindings({"resource": iri}))
    return in_order(rows, order)


async def passage_rows(request: Request, iri: str) -> tuple[list[dict], int]:
    """The rows of the named query `source-of` for the passages the page shows (the first
    CITYDIP_PAGE_PASSAGES in the order of the source), and how many passages there are."""
    query = page_query(request, "entity-passages")
    keys = await rows_in_order(request, query, {"resource": iri})
    if keys is None:  # more than CITYDIP_MAX_ROWS: the engine sorts them (and stops there)
        keys = await request.app.state.backend.select(query.text,
                                                      query.bindings({"resource": iri}))
    shown = first_passages(keys, request.app.state.settings.page_passages)
    count = len({row["passage"] for row in keys})
    if not shown:
        return [], count
    if any(isinstance(passage, ox.BlankNode) for passage in shown):
        # A blank node cannot be named in VALUES: the passages are read whole, in one step.
        sources = get_query(Path(request.app.state.settings.queries_dir), "source-of")
        rows = await rows_in_order(request, sources, {"resource": iri})
        if rows is None:
            rows = await request.app.state.backend.select(sources.text,
                                                          sources.bindings({"resource": iri}))
        return rows, count
    text = bind_rows(page_query(request, "passages").text, ["passage"], [[p] for p in shown])
    return with_passages(keys, await request.app.state.backend.select(text)), count


def first_passages(keys: list[dict], shown: int) -> list:
    """The first `shown` passages of rows in order, each once."""
    first: dict = {}
    for row in keys:
        if len(first) >= shown:
            break
        first.setdefault(row["passage"], None)
    return list(first)


def with_passages(keys: list[dict], passages: list[dict]) -> list[dict]:
    """The key rows of the passages read, each joined with what was read of its passage (on the
    passage and its first line), in the order of the keys."""
    found: dict[tuple, list[dict]] = {}
    for row in passages:
        found.setdefault((row["passage"], row["lineStart"]), []).append(row)
    return [{**key, **detail} for key in keys
            for detail in found.get((key["passage"], key["lineStart"]), ())]
