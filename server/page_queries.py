"""What pages read from the store: the queries under `queries/pages/` and the label index.

Why a module beside the routes: the front page, browsing, search, the entity pages, the query
page and the map's link from an entity page all read through these, and route modules never
import each other (tests/unit/test_layout.py). The queries are declarative, loaded from their
files like every named query; nothing here writes SPARQL.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import Request

from graph.core.namespaces import ID
from graph.sparql.catalogue import NamedQuery, internal_query


def page_query(request: Request, name: str) -> NamedQuery:
    """A query of `queries/pages/` (declarative, loaded from its file like every named query)."""
    return internal_query(request.app.state.settings.queries_dir, f"pages/{name}")


async def page_select(request: Request, text: str, bindings: dict | None = None, *,
                      max_rows: int | None = None) -> list[dict]:
    """The rows of a page's own query, presumed quick (graph.store.lanes: QueryJob.page)."""
    return await request.app.state.backend.select(text, bindings, page=True, max_rows=max_rows)


async def page_rows(request: Request, name: str, **values: str) -> list[dict]:
    query = page_query(request, name)
    return await page_select(request, query.text, query.bindings(values))


ORDER_BY = re.compile(r"\n\s*ORDER\s+BY\s+((?:\?\w+\s*)+)$", re.IGNORECASE)
NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in (
    "integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger",
    "positiveInteger")}


def term_order(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> tuple:
    """SPARQL's order of terms for ORDER BY: unbound, blank nodes, IRIs, then literals (numbers
    by value, the rest by their text)."""
    if term is None:
        return (0, 0, 0.0, "")
    if isinstance(term, ox.BlankNode):
        return (1, 0, 0.0, term.value)
    if isinstance(term, ox.NamedNode):
        return (2, 0, 0.0, term.value)
    if term.datatype.value in NUMERIC:
        try:
            return (3, 0, float(term.value), term.value)
        except ValueError:
            pass
    return (3, 1, 0.0, term.value)


def unordered(query: NamedQuery) -> tuple[str, list[str]]:
    """A page query that ends in `ORDER BY ?a ?b`: its text without that clause, and the names
    of its sort keys (to sort its rows here with `in_order`)."""
    found = ORDER_BY.search(query.text.rstrip())
    if found is None:
        raise ValueError(f"{query.name}: no ORDER BY of variables at its end")
    return query.text.rstrip()[:found.start()], [v.lstrip("?") for v in found.group(1).split()]


def in_order(rows: list[dict], keys: list[str]) -> list[dict]:
    """Rows sorted as the engine's ORDER BY of those variables would sort them."""
    return sorted(rows, key=lambda row: tuple(term_order(row.get(k)) for k in keys))


async def rows_in_order(request: Request, query: NamedQuery, values: dict[str, str]
                        ) -> list[dict] | None:
    """Every row of a page query that ends in `ORDER BY ?a ?b`, sorted here, not by the engine;
    None when there are more than CITYDIP_MAX_ROWS (then let the engine sort and page).

    Why: the engine decodes both terms at each comparison of a sort, so sorting the 2,591
    statements that point at the hub of a million-triple graph took it 550 ms for a page of
    50 (the same rows unsorted: 1 ms to read, 1 ms to sort here).
    """
    text, keys = unordered(query)
    limit = request.app.state.settings.max_rows
    rows = await page_select(request, f"{text}\nLIMIT {limit + 1}\n", query.bindings(values))
    if len(rows) > limit:
        return None
    return in_order(rows, keys)


def label_index(request: Request):
    """The backend's label index; a store without one (not built yet) makes the page a 503."""
    index = getattr(request.app.state.backend, "labels", None)
    if index is None:
        raise RuntimeError("the label index is not available")
    return index


def placed(iri: str) -> bool:
    """Whether the map may show the resource (a resource of ours, not a class or a property)."""
    return iri.startswith(str(ID))


def map_path(iri: str, partners: list[dict]) -> str | None:
    """`/viz/map?actor=…` for an actor with a partner that has coordinates, else None:
    `partners` are the rows of queries/pages/placed-partner.rq (one small query, read with the
    page's first, so that an entity page never waits for the network to be built)."""
    if not placed(iri) or not partners:
        return None
    return f"/viz/map?actor={quote(iri[len(str(ID)):], safe='/')}"
