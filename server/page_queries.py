"""What pages read from the store: the queries under `queries/pages/` and the label index.

Why a module beside the routes: the front page, browsing, search, the entity pages, the query
page and the map's link from an entity page all read through these, and route modules never
import each other (tests/unit/test_layout.py). The queries are declarative, loaded from their
files like every named query; nothing here writes SPARQL.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from graph.core.namespaces import ID
from graph.sparql.catalogue import NamedQuery, internal_query


def page_query(request: Request, name: str) -> NamedQuery:
    """A query of `queries/pages/` (declarative, loaded from its file like every named query)."""
    return internal_query(request.app.state.settings.queries_dir, f"pages/{name}")


async def page_rows(request: Request, name: str, **values: str) -> list[dict]:
    query = page_query(request, name)
    return await request.app.state.backend.select(query.text, query.bindings(values))


def label_index(request: Request):
    """The backend's label index; a store without one (not built yet) makes the page a 503."""
    index = getattr(request.app.state.backend, "labels", None)
    if index is None:
        raise RuntimeError("the label index is not available")
    return index


async def map_path(request: Request, iri: str) -> str | None:
    """`/viz/map?actor=…` for an actor with a partner that has coordinates, else None.

    One small query (queries/pages/placed-partner.rq), so that an entity page never waits for
    the network to be built.
    """
    if not iri.startswith(str(ID)):
        return None
    if not await page_rows(request, "placed-partner", resource=iri):
        return None
    return f"/viz/map?actor={quote(iri[len(str(ID)):], safe='/')}"
