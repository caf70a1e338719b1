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

The statements in (`statements_in`) are read as counts, then subjects. Their keys are their
rows but the resource, and at the hub of 5M triples there are 9,175 of them: as SPARQL JSON,
one object per term, they cost 230 ms of CPU to serialize in the worker and parse here. So a
first query counts them per property (`entity-in-counts`, no term's text read); the page finds
from the counts which properties its rows fall in, and a second query lists the subjects of
those only, one space-separated string per property (`entity-in-subjects`), sorted and cut
here: 10 ms of CPU for the hub's first page, 19 for a page among its 2,568 `cd:participant`
statements, instead of 130 (docs/benchmarks.md). A subject that has no text there (a blank
node), or more rows than CITYDIP_MAX_ROWS, and the page reads `entity-in` itself as before.

The statements out are counted per property too (`entity-out-counts`), and `entity-out` itself
is read for the properties on the page only (VALUES ?p), sorted here: its objects may be
literals (language, datatype), which a list of strings would lose. At the hub of 5M the first
page reads 311 of its 3,062 statements (the 2,361 derived partner-of shortcuts come later),
12 ms of CPU instead of 65; a page among the shortcuts costs what the whole list did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pyoxigraph as ox
from fastapi import Request

from graph.sparql.catalogue import NamedQuery, get_query
from graph.sparql.text import bind_rows
from server.page_queries import (
    in_order,
    page_query,
    page_rows,
    page_select,
    rows_in_order,
    unordered,
)
from server.terms import RDF_TYPE

KEYED = {"entity-partnerships": ("entity-partnerships-keys", ("partnership",))}
"""Page lists read in two steps: the query of their keys and the variables that name a row."""

COUNTED = {"entity-out": "entity-out-counts"}
"""Page lists read for the properties on the page only: the query of their counts per
property (`?p`, `?n`: the list's rows with that property)."""


async def paged_rows(request: Request, name: str, iri: str, number: int,
                     size: int) -> tuple[list[dict], bool]:
    """One page of a page query's rows and whether more follow: sorted here when the whole list
    (or its keys) is at most CITYDIP_MAX_ROWS (see `rows_in_order`), else by the engine
    (LIMIT/OFFSET)."""
    start = (number - 1) * size
    if name == "entity-in":
        return await statements_in(request, iri, start, size)
    if name in COUNTED:
        return await counted_page(request, name, COUNTED[name], iri, start, size)
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


async def statements_in(request: Request, iri: str, start: int,
                        size: int) -> tuple[list[dict], bool]:
    """One page of `entity-in` (from `start`, `size` rows) and whether more follow, read as
    counts per property and the subjects of the properties on the page (see above)."""
    async def page(wanted: list[tuple[ox.NamedNode, int, int]]) -> list[dict] | None:
        query = page_query(request, "entity-in-subjects")
        text = with_resource(query.text, iri, ["p"], [[p] for p, _, _ in wanted])
        lists = await page_select(request, text)
        return subjects_page(wanted, lists, ox.NamedNode(iri), start, size)

    return await by_properties(request, "entity-in", "entity-in-counts", iri, start, size, page)


async def counted_page(request: Request, name: str, counts_name: str, iri: str, start: int,
                       size: int) -> tuple[list[dict], bool]:
    """One page of page query `name` ordered by `?p` first, read for the properties on the
    page only (counted per property by `counts_name`), sorted here."""
    async def page(wanted: list[tuple[ox.NamedNode, int, int]]) -> list[dict] | None:
        query = page_query(request, name)
        text, order = unordered(query)
        text = with_resource(text, iri, ["p"], [[p] for p, _, _ in wanted])
        rows = await page_select(request, text)
        return rows_on_page(wanted, rows, order, start, size)

    return await by_properties(request, name, counts_name, iri, start, size, page)


async def by_properties(request: Request, name: str, counts_name: str, iri: str, start: int,
                        size: int, page: Callable[[list[tuple[ox.NamedNode, int, int]]],
                                                  Awaitable[list[dict] | None]]
                        ) -> tuple[list[dict], bool]:
    """What both lists read per property share: the counts, the properties on the page, and
    `page` read for them when they hold at most CITYDIP_MAX_ROWS rows; page query `name` read
    as before when `page` cannot (None) or they hold more."""
    counts = await page_rows(request, counts_name, resource=iri)
    wanted, total = properties_on_page(counts, start, size)
    more = total > start + size
    if not wanted:
        return [], more
    if sum(n for _, n, _ in wanted) <= request.app.state.settings.max_rows:
        rows = await page(wanted)
        if rows is not None:
            return rows, more
    rows, _ = await one_page(request, name, iri, start, size)
    return rows, more


def rows_on_page(wanted: list[tuple[ox.NamedNode, int, int]], rows: list[dict],
                 order: list[str], start: int, size: int) -> list[dict] | None:
    """Rows `start`…`start + size` of a list ordered by `order` (`?p` first), out of its rows
    for the `wanted` properties (`properties_on_page`); None when they are not as many as
    counted (the data changed between the two queries: the page reads the list whole)."""
    if len(rows) != sum(n for _, n, _ in wanted):
        return None
    first = start - wanted[0][2]
    return in_order(rows, order)[first:first + size]


def properties_on_page(counts: list[dict], start: int, size: int
                       ) -> tuple[list[tuple[ox.NamedNode, int, int]], int]:
    """From rows of a query of counts per property (`entity-in-counts`, `entity-out-counts`):
    the properties that rows `start`…`start + size` of its list (ordered by `?p` first) fall
    in, each with its count and the number of rows before it, in the list's order; and the
    number of the list's rows."""
    wanted = []
    before = 0
    for row in in_order(counts, ["p"]):
        n = int(row["n"].value)
        if before < start + size and before + n > start:
            wanted.append((row["p"], n, before))
        before += n
    return wanted, before


def subjects_page(wanted: list[tuple[ox.NamedNode, int, int]], lists: list[dict],
                  resource: ox.NamedNode, start: int, size: int) -> list[dict] | None:
    """The rows of `entity-in` from `start` (`size` of them) out of rows of
    `entity-in-subjects` for the `wanted` properties (`properties_on_page`); None when a list
    does not hold its count of IRIs (a subject that is a blank node has no text there)."""
    found = {row["p"]: (value.value.split() if (value := row.get("subjects")) is not None else [])
             for row in lists}
    page: list[dict] = []
    for p, n, before in wanted:
        subjects = sorted(found.get(p, ()))  # an IRI's order is its text's (term_order)
        if len(subjects) != n:
            return None
        for subject in subjects[max(0, start - before):start + size - before]:
            page.append({"resource": resource, "s": ox.NamedNode(subject), "p": p})
    return page


async def details(request: Request, name: str, iri: str, columns: tuple[str, ...],
                  keys: list[dict]) -> list[dict]:
    """The rows of page query `name` for the keyed rows of one page, in its order."""
    if not keys:
        return []
    query = page_query(request, name)
    text, order = unordered(query)
    text = with_resource(text, iri, columns, [[row[c] for c in columns] for row in keys])
    return in_order(await page_select(request, text), order)


def with_resource(text: str, iri: str, names: Sequence[str], rows: list[list]) -> str:
    """`text` restricted to `rows` of `names`, each row with the page's resource as `?resource`.

    The resource in the same VALUES rows as the keys, not in a VALUES block of its own beside
    theirs: with two blocks the engine joined every row the resource has first (at the hub of
    5M: the passages behind its 6,779 statements, 170 ms against 3; the details of 50 of its
    1,846 partnerships, 19 ms against 5; the subjects of two of its properties, 6 against 2).
    """
    resource = ox.NamedNode(iri)
    return bind_rows(text, [*names, "resource"], [[*row, resource] for row in rows])


async def passage_rows(request: Request, iri: str, statements: list | None
                       ) -> tuple[list[dict], int]:
    """The rows of the named query `source-of` for the passages the page shows (the first
    CITYDIP_PAGE_PASSAGES in the order of the source), and how many passages there are: behind
    every statement that mentions the resource (`statements` None: its lists are whole on the
    page), or behind those of `statements` only (the resource and the subjects and
    partnerships of a page of longer lists; see `page_statements`)."""
    query = page_query(request, "entity-passages")
    if statements is None:
        keys = await every_row(request, query, iri)
    else:
        text, order = unordered(query)
        text = with_resource(text, iri, ["statement"], [[s] for s in statements])
        keys = in_order(await page_select(request, text), order)
    shown = first_passages(keys, request.app.state.settings.page_passages)
    count = len({row["passage"] for row in keys})
    if not shown:
        return [], count
    if any(isinstance(passage, ox.BlankNode) for passage in shown):
        # A blank node cannot be named in VALUES: the passages are read whole, in one step.
        sources = get_query(Path(request.app.state.settings.queries_dir), "source-of")
        rows = await every_row(request, sources, iri)
        if statements is not None:
            on_page = set(statements)
            rows = [row for row in rows if row["statement"] in on_page]
        return rows, count
    text = bind_rows(page_query(request, "passages").text, ["passage"], [[p] for p in shown])
    return with_passages(keys, await page_select(request, text)), count


async def every_row(request: Request, query: NamedQuery, iri: str) -> list[dict]:
    """Every row of `query` about the resource, in its order: sorted here when they are at most
    CITYDIP_MAX_ROWS, else by the engine (which stops there)."""
    rows = await rows_in_order(request, query, {"resource": iri})
    if rows is None:
        rows = await request.app.state.backend.select(query.text, query.bindings({"resource": iri}))
    return rows


def page_statements(iri: str, in_rows: list[dict], partner_rows: list[dict]) -> list | None:
    """The statements whose passages a page of longer lists shows: the resource, the subjects of
    its statements in on the page (but `rdf:type`, as `entity-passages`) and the partnerships on
    the page; None when one of them is a blank node (it cannot be named in VALUES: the page
    shows the passages behind every statement, as when its lists are whole)."""
    statements = [ox.NamedNode(iri)]
    statements += [row["s"] for row in in_rows if row["p"] != RDF_TYPE]
    statements += [row["partnership"] for row in partner_rows]
    if any(isinstance(s, ox.BlankNode) for s in statements):
        return None
    return list(dict.fromkeys(statements))


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
