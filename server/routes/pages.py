"""HTML pages: the front page, browsing by class, label search and the SPARQL query page.

Also the machinery the entity pages share: the template environment, the queries under
`queries/pages/`, how RDF terms are shown and linked, and the friendly 503 page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from graph.core.namespaces import CD, PREFIXES
from graph.sparql.catalogue import NamedQuery, QueryError, catalogue, internal_query
from graph.store.execution import QueryTimeout
from server import TEMPLATES_DIR
from server.cache import described, per_data_version
from server.deps import SettingsDep
from server.describe import dataset_statistics
from server.dump_links import announced_dumps

log = logging.getLogger(__name__)

DISPLAY_PREFIXES = {
    **PREFIXES,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
LANGUAGE_NAMES = {
    "en": "English",
    "zh-Hant": "Chinese (traditional) · 繁體中文",
    "pl": "Polish · polski",
    "ja": "Japanese · 日本語",
    "ko": "Korean · 한국어",
    "de": "German · Deutsch",
}
LANGUAGE_ORDER = list(LANGUAGE_NAMES)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
GROUPS = (
    ("areas", "Cities and other areas", "City"),
    ("countries", "Countries", "Country"),
    ("organizations", "Organizations", "Organization"),
    ("groups", "Groups of actors", "ActorGroup"),
    ("people", "People", "Person"),
    ("agreements", "Agreements", "Agreement"),
    ("relations", "Twinning relations", "TwinningRelation"),
    ("events", "Events", "Event"),
    ("passages", "Source passages", "Passage"),
    ("rows", "Rows of pair lists", "PairListRow"),
)
"""The front page's groups: key (as in queries/pages/overview.rq), heading, class to browse."""

TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- responses that are pages ------------------------------------------------------------------


def root_path(request: Request) -> str:
    """Pages link with root-relative paths, so they work behind a prefix and never name a host."""
    return request.scope.get("root_path", "").rstrip("/")


def render(request: Request, template: str, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        request=request, root=root_path(request), **context)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY, **(headers or {})})


def wants_html(request: Request) -> bool:
    """Whether the client reads pages (a browser) rather than data; absent Accept counts as yes."""
    accept = request.headers.get("accept", "")
    requested = request.query_params.get("format")
    if requested:
        return requested.lower() == "html"
    return not accept.strip() or "text/html" in accept or accept.strip() == "*/*"


def unavailable(request: Request, message: str) -> Response:
    headers = {"Vary": "Accept", "Retry-After": "5"}
    if not wants_html(request):
        return PlainTextResponse(message + "\n", status_code=503, headers=headers)
    return render(request, "unavailable.html", status=503, headers=headers, message=message,
                  title="The graph is busy")


class PageRoute(APIRoute):
    """A route whose store failures become a friendly 503 page instead of a stack trace."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except QueryTimeout as exc:
                return unavailable(request, f"The graph took too long to answer ({exc}). "
                                   "Please try again in a moment.")
            except (RuntimeError, OSError, httpx.HTTPError):
                log.exception("a page query failed")
                return unavailable(request, "The graph store could not answer just now. "
                                   "Please try again in a moment.")

        return guarded


router = APIRouter(tags=["pages"], route_class=PageRoute)


# --- the page queries --------------------------------------------------------------------------


def page_query(request: Request, name: str) -> NamedQuery:
    """A query of `queries/pages/` (declarative, loaded from its file like every named query)."""
    return internal_query(request.app.state.settings.queries_dir, f"pages/{name}")


async def page_rows(request: Request, name: str, **values: str) -> list[dict]:
    query = page_query(request, name)
    return await request.app.state.backend.select(query.text, query.bindings(values))


# --- showing terms -----------------------------------------------------------------------------


def compact(iri: str) -> str:
    for prefix, ns in sorted(DISPLAY_PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def language_tag(tag: str | None) -> str:
    """A BCP 47 tag in its usual case (the store lower-cases them): zh-hant → zh-Hant."""
    if not tag:
        return ""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper() if len(part) == 2
                   else part.lower())
    return "-".join(out)


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


def language_rank(tag: str) -> tuple[int, str]:
    return (LANGUAGE_ORDER.index(tag) if tag in LANGUAGE_ORDER else len(LANGUAGE_ORDER), tag)


def local_path(request: Request, iri: str) -> str | None:
    """The page of a resource under the resource base: `{base}city/gdynia` → `/id/city/gdynia`."""
    base = request.app.state.settings.resource_base
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    if not re.fullmatch(r"[a-z0-9-]+/[A-Za-z0-9._~-]+", rest):
        return None
    return f"{root_path(request)}/id/{rest}"


def browse_path(request: Request, class_iri: str) -> str | None:
    if class_iri.startswith(str(CD)):
        return f"{root_path(request)}/browse?class={class_iri[len(str(CD)):]}"
    return None


def node(request: Request, term: Any, label: Any = None, label_zh: Any = None) -> dict:
    """A term as the templates show it: text, an optional link, and what kind of term it is."""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        return {
            "kind": "literal",
            "text": term.value,
            "lang": language_tag(term.language),
            "datatype": None if datatype in (XSD_STRING, RDF_LANG_STRING) else compact(datatype),
        }
    if isinstance(term, ox.BlankNode):
        return {"kind": "bnode", "text": f"_:{term.value}", "href": None}
    iri = term.value
    href = local_path(request, iri)
    # Only web IRIs become links out: a `javascript:` IRI in the data must stay text.
    external = href is None and re.match(r"(?i)https?://", iri) is not None
    text = label.value if label is not None else None
    return {
        "kind": "iri",
        "iri": iri,
        "text": text or compact(iri),
        "lang": language_tag(label.language) if label is not None else "",
        "labelled": text is not None,
        "secondary": label_zh.value if label_zh is not None else None,
        "compact": compact(iri),
        "href": href or (iri if external else None),
        "local": href is not None,
    }


def value(row: dict, key: str) -> str | None:
    term = row.get(key)
    return term.value if term is not None else None


# --- the front page ----------------------------------------------------------------------------


async def front_page_counts(app) -> dict:
    """The counts of the front page and of the browse index (queries/pages/overview.rq and
    class-breakdown.rq), as plain values: kept per data version (server/cache.py), warmed at
    start and recounted in the background after writes."""
    async def rows(name: str) -> list[dict]:
        query = internal_query(app.state.settings.queries_dir, f"pages/{name}")
        return await app.state.backend.select(query.text, query.bindings({}))

    totals = {r["group"].value: int(r["count"].value) for r in await rows("overview")}
    classes = [{"group": row["group"].value, "iri": row["class"].value,
                "label": value(row, "classLabel") or compact(row["class"].value),
                "count": int(row["count"].value)} for row in await rows("class-breakdown")]
    return {"totals": totals, "classes": classes}


async def class_breakdown(request: Request) -> dict[str, list[dict]]:
    counted = await per_data_version(request, "front_page",
                                     lambda: front_page_counts(request.app))
    groups: dict[str, list[dict]] = {key: [] for key, _, _ in GROUPS}
    for row in counted["classes"]:
        groups.setdefault(row["group"], []).append({
            "iri": row["iri"], "label": row["label"], "count": row["count"],
            "href": browse_path(request, row["iri"]) or local_path(request, row["iri"]),
        })
    return groups


@router.get("/", name="home", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> Response:
    breakdown = await class_breakdown(request)
    totals = (await per_data_version(request, "front_page",
                                     lambda: front_page_counts(request.app)))["totals"]
    stats = await dataset_statistics(request)
    groups = [{"key": key, "title": title, "count": totals.get(key, 0),
               "browse": f"{root_path(request)}/browse?class={cls}",
               "classes": breakdown.get(key, [])}
              for key, title, cls in GROUPS if key != "rows" or totals.get(key)]
    graphs = [{"iri": iri, "name": compact(iri), "triples": n}
              for iri, n in sorted(stats["graphs"].items())]
    dumps = await announced_dumps(request, list(stats["graphs"]))
    version, current = described(request)
    return render(request, "home.html", dumps=dumps, groups=groups, triples=stats["triples"],
                  graphs=graphs, title="City diplomacy knowledge graph", counts_version=version,
                  current_version=current)


# --- browsing ----------------------------------------------------------------------------------


def class_iri(raw: str) -> str | None:
    """`City`, `cd:City` or the full IRI of a class; None when it is none of these."""
    raw = raw.strip()
    name = raw.removeprefix("cd:")
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return str(CD) + name
    if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", raw):
        return raw
    return None


@router.get("/browse", name="browse", response_class=HTMLResponse, include_in_schema=False)
async def browse(request: Request) -> Response:
    raw = request.query_params.get("class")
    if raw is None or not raw.strip():
        breakdown = await class_breakdown(request)
        groups = [{"title": title, "classes": breakdown.get(key, [])} for key, title, _ in GROUPS]
        return render(request, "browse_index.html", groups=groups, title="Browse by class")
    iri = class_iri(raw)
    if iri is None:
        return render(request, "browse.html", status=400, cls=None, raw=raw, items=[],
                      title="Browse: not a class name")
    size = request.app.state.settings.page_size
    number = page_number(request, "page")
    if number is None:
        return PlainTextResponse("page must be a whole number from 1\n", status_code=400)
    index = label_index(request)
    found = index.members(iri, size + 1, (number - 1) * size)
    total = await per_data_version(request, f"browse-count {iri}",
                                   lambda: asyncio.to_thread(index.member_count, iri))
    names = index.class_labels([iri, *(t for item in found for t in item["types"])])
    items = [{
        "node": node(request, ox.NamedNode(item["iri"]),
                     label_literal(item["name"], item["name_lang"]),
                     label_literal(item["name_zh"], "zh-hant")),
        "types": ", ".join(names.get(t) or compact(t) for t in item["types"]),
    } for item in found[:size]]
    cls = {"iri": iri, "label": names.get(iri) or compact(iri), "compact": compact(iri)}
    return render(request, "browse.html", cls=cls, raw=raw, items=items, total=total,
                  pager=pager(request, "page", number, size, len(items), len(found) > size,
                              total),
                  title=f"Browse: {cls['label']}")


def label_index(request: Request):
    """The backend's label index; a store without one (not built yet) makes the page a 503."""
    index = getattr(request.app.state.backend, "labels", None)
    if index is None:
        raise RuntimeError("the label index is not available")
    return index


def page_number(request: Request, param: str) -> int | None:
    """The 1-based page a query parameter asks for (1 when absent); None when it is not one."""
    raw = request.query_params.get(param)
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        return None
    return int(raw)


def pager(request: Request, param: str, number: int, size: int, shown: int, has_next: bool,
          total: int | None = None, anchor: str = "") -> dict:
    """Links to the previous and next page of a list, keeping the other query parameters."""
    def href(n: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != param]
        if n > 1:
            params.append((param, str(n)))
        query = urlencode(params)
        return f"{request.url.path}{'?' + query if query else ''}{anchor}"

    first = (number - 1) * size + 1
    return {"page": number, "first": first if shown else 0, "last": first + shown - 1,
            "total": total, "prev": href(number - 1) if number > 1 else None,
            "next": href(number + 1) if has_next else None}


# --- search ------------------------------------------------------------------------------------

MAX_SEARCH = 200


@router.get("/search", name="search", response_class=HTMLResponse,
            summary="Resources by label, in any language (HTML, or JSON with format=json)")
async def search(request: Request, settings: SettingsDep) -> Response:
    """The label index (graph.store.labels) answers: prefix and substring, case- and
    accent-folded."""
    q = (request.query_params.get("q") or "").strip()[:MAX_SEARCH]
    lang = request.query_params.get("lang") or None
    limit = settings.search_results
    raw_limit = request.query_params.get("limit")
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= settings.search_results:
            return PlainTextResponse(f"limit must be a whole number from 1 to "
                                     f"{settings.search_results}\n", status_code=400)
        limit = int(raw_limit)
    if lang is not None and not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", lang):
        return PlainTextResponse("lang must be a language tag such as en, zh-Hant, pl\n",
                                 status_code=400)
    index = label_index(request)
    hits = index.search(q, limit + 1, lang) if q else []
    more = len(hits) > limit
    hits = hits[:limit]
    if request.query_params.get("format") == "json":
        body = {"q": q, "more": more, "results": [h.to_dict() for h in hits]}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
    class_names = index.class_labels(c for h in hits for c in h.classes)
    results = [{
        "node": node(request, ox.NamedNode(h.iri), label_literal(h.name, h.name_lang),
                     label_literal(h.name_zh, "zh-hant")),
        "labels": [{"text": t, "lang": language_tag(lang)} for t, lang in h.labels],
        "classes": [class_names.get(c) or compact(c) for c in h.classes
                    if c.startswith(str(CD))],
    } for h in hits]
    return render(request, "search.html", q=q, results=results, more=more,
                  title=f"Search: {q}" if q else "Search")


def label_literal(text: str | None, lang: str | None) -> ox.Literal | None:
    if text is None:
        return None
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


# --- the query page ----------------------------------------------------------------------------


@router.get("/query/simple", name="query_simple", response_class=HTMLResponse,
            include_in_schema=False)
async def query_simple(request: Request, settings: SettingsDep) -> Response:
    try:
        named: Iterable[NamedQuery] = catalogue(Path(settings.queries_dir)).values()
    except QueryError:
        log.exception("the query catalogue cannot be read")
        named = []
    examples = [{**q.to_dict(), "text": q.text} for q in named]
    start = request.query_params.get("query") or page_query(request, "query-example").text
    return render(request, "query.html", examples=examples, start=start,
                  preselect=request.query_params.get("name", ""),
                  resource_base=settings.resource_base, prefixes=DISPLAY_PREFIXES,
                  title="SPARQL query")
