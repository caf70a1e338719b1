"""The query page at /query: YASGUI, vendored, configured for this endpoint.

Researchers know YASGUI from Fuseki, Oxigraph server and rdflib-endpoint: its editor, prefix
handling, tabs and result plugins. It is served from server/static/vendor/yasgui (refreshed by
scripts/vendor-refresh.sh), never from a CDN. Everything it needs from us comes in the page as
JSON: the endpoint, our prefixes, the named queries (one tab each), the classes and properties of
the ontology for autocompletion (YASGUI's own completers call prefix.cc and LOV; they are turned
off in server/static/yasgui.js), and the resource base whose IRIs link to our entity pages.

The page's Content-Security-Policy differs from the others' in one point: YASGUI and its table
plugin write `style` attributes into the HTML they build, so inline styles are allowed here;
scripts still come from this server only. The small editor that came before stays at
/query/simple for browsers without much memory or script.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from graph.sparql.catalogue import NamedQuery, QueryError, catalogue
from graph.store.vocabulary import vocabulary_terms
from server.deps import SettingsDep
from server.page_queries import page_query
from server.rendering import PageRoute, render
from server.terms import DISPLAY_PREFIXES

log = logging.getLogger(__name__)
router = APIRouter(tags=["pages"], route_class=PageRoute)
YASGUI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)


@router.get("/query", name="query_page", response_class=HTMLResponse, include_in_schema=False)
async def query_page(request: Request, settings: SettingsDep) -> Response:
    try:
        named: Iterable[NamedQuery] = catalogue(Path(settings.queries_dir)).values()
    except QueryError:
        log.exception("the query catalogue cannot be read")
        named = []
    config = {
        "root": request.scope.get("root_path", "").rstrip("/"),
        "resourceBase": settings.resource_base,
        "prefixes": DISPLAY_PREFIXES,
        "start": request.query_params.get("query") or page_query(request, "query-example").text,
        "preselect": request.query_params.get("name", ""),
        "examples": [{"name": q.name, "summary": q.summary, "text": _tab_text(q.summary, q.text)}
                     for q in named],
        "vocabulary": vocabulary_terms(settings.ontology_dir),
    }
    return render(request, "yasgui.html", config=config, title="SPARQL query",
                  headers={"Content-Security-Policy": YASGUI_CSP})


def _tab_text(summary: str, text: str) -> str:
    """A named query as a tab shows it: its summary as a comment instead of the `#+` header."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+")).lstrip()
    return f"# {summary}\n{body}\n" if summary else body + "\n"
