"""An entity page's lists read in two queries (three when its statements in are paged).

Why: a page shows three lists (the resource's statements, the statements that point at it, the
partnerships it is a party to) and the source passages behind them, and each list of a hub is
long: at 5M generated triples the hub stands behind 9,175 statements, 1,846 partnerships and
4,888 passages. Read whole, they cost seconds for a page that shows a screenful. So a page is
read in steps, each step one query (`together`: the step's parts as subqueries joined by UNION,
graph.sparql.text.union_of), so that the page costs one hand-off to the engine and back per
step, not one per list (at a fixed load while editors write, the pages made anew after a write
took five such hand-offs and set the readers' p99, docs/benchmarks.md):

1. **Counts and keys**: the resource's statements counted per property (`entity-out-counts`),
   the statements that point at it counted per property (`entity-in-counts`; counting reads no
   term's text), the order keys of its partnerships (`entity-partnerships-keys`: partnership
   and first date, nothing else), and whether one of its partners is on the map
   (`placed-partner`).
2. **One page of each list**: `entity-out` for the properties on the page only (`VALUES ?p`);
   the subjects of the properties on the page (`entity-in-subjects`, one space-separated
   string per property, sorted and cut here); the details of the page's partnerships
   (`entity-partnerships` with `VALUES ?partnership`); and, when the statements in fit on one
   page, the passages behind all of them (`source-of`).
3. Only when the statements in are paged: the passages behind the statements on the page (the
   resource, the subjects and partnerships on it), not behind all 9,175.

The lists are sorted here in the engine's order (`server.page_queries.in_order`: the engine
took 550 ms to sort a hub's statements), and every page holds the rows, in the order, that
the one-step query gives for it (tests/unit/test_page_order.py). A part with more rows than
CITYDIP_MAX_ROWS, a subject or partnership that is a blank node (it cannot be named in
`VALUES`), or data that changed between two steps: that list is read by its one-step query,
sorted and cut by the engine (`one_page`), as a query of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from fastapi import Request

from graph.core.terms import RDF_TYPE
from graph.sparql.catalogue import NamedQuery, get_query
from graph.sparql.text import bind_rows, bind_values, union_of
from server.page_queries import (
    in_order,
    map_path,
    page_query,
    page_select,
    placed,
    rows_in_order,
    unordered,
)

PART = "pagePart"
"""The variable naming the part of a step's query that a row answers (`union_of`)."""

Finish = Callable[[list[dict]], "tuple[list[dict], bool] | None"]
"""From a part's rows, one page of a list and whether more follow (None: read it in one step)."""


@dataclass
class Lists:
    """What an entity page shows of its lists: one page of each (`out`, `in`, `partnerships`)
    and whether more follow, the passages the page quotes and how many passages there are
    (behind the statements on the page only, `passages_of_page`), the map's link or None."""
    pages: dict[str, tuple[list[dict], bool]]
    passages: list[dict]
    passage_count: int
    passages_of_page: bool
    map_path: str | None


async def page_lists(request: Request, iri: str, numbers: dict[str, int], size: int) -> Lists:
    """The lists of the entity page of `iri`: pages `numbers` (`out`, `in`, `partnerships`,
    from 1) of `size` rows, in two or three queries (above)."""
    cap = request.app.state.settings.max_rows + 1
    most = max(cap, size + 1)  # rows of a part: a page cut by the engine has size + 1
    keys_text, keys_order = unordered(page_query(request, "entity-partnerships-keys"))
    first = await together(request, {
        "out-counts": bound(page_query(request, "entity-out-counts").text, iri),
        "in-counts": bound(page_query(request, "entity-in-counts").text, iri),
        "keys": bound(capped(keys_text, cap), iri),
        **({"placed": bound(page_query(request, "placed-partner").text, iri)}
           if placed(iri) else {}),
    }, most)
    start = {name: (number - 1) * size for name, number in numbers.items()}
    plans = {
        "out": statements_out(request, iri, first["out-counts"], start["out"], size),
        "in": statements_in(request, iri, first["in-counts"], start["in"], size),
        "partnerships": partnerships(request, iri, first["keys"], keys_order,
                                     start["partnerships"], size),
    }
    in_total = sum(int(row["n"].value) for row in first["in-counts"])
    paged = numbers["in"] > 1 or in_total > size  # the statements in are paged
    parts = {name: text for name, (text, _) in plans.items() if text is not None}
    source = source_of(request)
    if not paged:
        parts["passages"] = passages_part(source, iri, None, cap)
    second = await together(request, parts, most)
    pages = {}
    for name, (_, finish) in plans.items():
        page = finish(second.get(name, []))
        pages[name] = page if page is not None else await one_page(
            request, ONE_STEP[name], iri, start[name], size)
    statements = None
    if paged:
        statements = page_statements(iri, pages["in"][0], pages["partnerships"][0])
        rows = (await together(request, {
            "passages": passages_part(source, iri, statements, cap)}, most))["passages"]
    else:
        rows = second["passages"]
    if len(rows) >= cap:  # more than CITYDIP_MAX_ROWS: sorted by the engine, which stops there
        rows = await page_select(request, passages_part(source, iri, statements, None))
    shown, count = quoted(in_order(rows, unordered(source)[1]),
                          request.app.state.settings.page_passages)
    return Lists(pages, shown, count, paged and statements is not None,
                 map_path(iri, first.get("placed", [])))


ONE_STEP = {"out": "entity-out", "in": "entity-in", "partnerships": "entity-partnerships"}
"""Each list's one-step query: what `one_page` reads when its page cannot be made in steps."""


async def together(request: Request, parts: dict[str, str], most: int) -> dict[str, list[dict]]:
    """The rows of each of `parts` (SELECT queries, bound, each of at most `most` rows), read
    as one query."""
    if not parts:
        return {}
    rows = await page_select(request, union_of(parts, PART), max_rows=most * len(parts))
    found: dict[str, list[dict]] = {name: [] for name in parts}
    for row in rows:
        found[row.pop(PART).value].append(row)
    return found


def bound(text: str, iri: str) -> str:
    """A page query's text with `?resource` bound to the page's resource."""
    return bind_values(text, {"resource": ox.NamedNode(iri)})


def capped(text: str, cap: int) -> str:
    return f"{text.rstrip()}\nLIMIT {cap}\n"


def engine_page(query: NamedQuery, iri: str, start: int, size: int) -> str:
    """One page of a one-step query, sorted and cut by the engine (past CITYDIP_MAX_ROWS)."""
    return bound(query.page_text(size + 1, start), iri)


Plan = tuple["str | None", Finish]
"""A list's part of the second step (None: nothing to read) and what makes its page of the
part's rows."""


def statements_out(request: Request, iri: str, counts: list[dict], start: int,
                   size: int) -> Plan:
    """The resource's statements on the page: `entity-out` for the page's properties only."""
    wanted, total = properties_on_page(counts, start, size)
    more = total > start + size
    query = page_query(request, "entity-out")
    if not wanted:
        return None, lambda rows: ([], more)
    if sum(n for _, n, _ in wanted) > request.app.state.settings.max_rows:
        return engine_page(query, iri, start, size), lambda rows: (rows[:size], more)
    text, order = unordered(query)
    text = with_resource(text, iri, ["p"], [[p] for p, _, _ in wanted])

    def finish(rows: list[dict]) -> tuple[list[dict], bool] | None:
        page = rows_on_page(wanted, rows, order, start, size)
        return None if page is None else (page, more)
    return text, finish


def statements_in(request: Request, iri: str, counts: list[dict], start: int,
                  size: int) -> Plan:
    """The statements that point at the resource on the page: the subjects of the page's
    properties, one string per property (`entity-in-subjects`), sorted and cut here."""
    wanted, total = properties_on_page(counts, start, size)
    more = total > start + size
    if not wanted:
        return None, lambda rows: ([], more)
    if sum(n for _, n, _ in wanted) > request.app.state.settings.max_rows:
        text = engine_page(page_query(request, "entity-in"), iri, start, size)
        return text, lambda rows: (rows[:size], more)
    text = with_resource(page_query(request, "entity-in-subjects").text, iri, ["p"],
                         [[p] for p, _, _ in wanted])

    def finish(rows: list[dict]) -> tuple[list[dict], bool] | None:
        page = subjects_page(wanted, rows, ox.NamedNode(iri), start, size)
        return None if page is None else (page, more)
    return text, finish


def partnerships(request: Request, iri: str, keys: list[dict], order: list[str], start: int,
                 size: int) -> Plan:
    """The partnerships on the page: their details (`entity-partnerships` for the page's
    keys only), in the keys' order."""
    query = page_query(request, "entity-partnerships")
    if len(keys) > request.app.state.settings.max_rows:
        return engine_page(query, iri, start, size), lambda rows: (rows[:size], len(rows) > size)
    on_page = in_order(keys, order)[start:start + size]
    more = len(keys) > start + size
    if not on_page:
        return None, lambda rows: ([], more)
    if any(isinstance(row["partnership"], ox.BlankNode) for row in on_page):
        return None, lambda rows: None  # not in VALUES: read in one step
    text, details = unordered(query)
    text = with_resource(text, iri, ["partnership"], [[row["partnership"]] for row in on_page])
    return text, lambda rows: (in_order(rows, details), more)


def source_of(request: Request) -> NamedQuery:
    return get_query(Path(request.app.state.settings.queries_dir), "source-of")


def passages_part(source: NamedQuery, iri: str, statements: list | None,
                  cap: int | None) -> str:
    """`source` (`source-of`) behind every statement that mentions the resource (`statements`
    None), or behind `statements` only (`page_statements`): unsorted and at most `cap` rows, or
    (`cap` None) sorted by the engine, which stops at CITYDIP_MAX_ROWS."""
    text = source.text if cap is None else capped(unordered(source)[0], cap)
    if statements is None:
        return bound(text, iri)
    return with_resource(text, iri, ["statement"], [[s] for s in statements])


def quoted(rows: list[dict], shown: int) -> tuple[list[dict], int]:
    """The rows of `source-of` (in its order) of the first `shown` passages, and how many
    passages the rows name."""
    first = set(first_passages(rows, shown))
    return [row for row in rows if row["passage"] in first], len({r["passage"] for r in rows})


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


def with_resource(text: str, iri: str, names: Sequence[str], rows: list[list]) -> str:
    """`text` restricted to `rows` of `names`, each row with the page's resource as `?resource`.

    The resource in the same VALUES rows as the keys, not in a VALUES block of its own beside
    theirs: with two blocks the engine joined every row the resource has first (at the hub of
    5M: the passages behind its 6,779 statements, 170 ms against 3; the details of 50 of its
    1,846 partnerships, 19 ms against 5; the subjects of two of its properties, 6 against 2).
    """
    resource = ox.NamedNode(iri)
    return bind_rows(text, [*names, "resource"], [[*row, resource] for row in rows])


async def one_page(request: Request, name: str, iri: str, start: int,
                   size: int) -> tuple[list[dict], bool]:
    """One page of a one-step page query and whether more follow: sorted here when it has at
    most CITYDIP_MAX_ROWS rows (`rows_in_order`), else by the engine (LIMIT/OFFSET)."""
    query = page_query(request, name)
    every = await rows_in_order(request, query, {"resource": iri})
    if every is not None:
        return every[start:start + size], len(every) > start + size
    rows = await page_select(request, engine_page(query, iri, start, size), max_rows=size + 1)
    return rows[:size], len(rows) > size


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


