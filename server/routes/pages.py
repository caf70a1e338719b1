"""HTML pages: the front page, browsing by class, label search and the simple SPARQL query page.

What pages share (rendering, the 503 page, paging, showing terms, the page queries) lives beside
the routes in server/rendering.py, server/terms.py and server/page_queries.py; the figures of
the front page and the browse index, and what is shown while they are first counted, in
server/front_counts.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from graph.core.namespaces import CD
from graph.sparql.catalogue import NamedQuery, QueryError, catalogue
from server import describe, front_counts
from server.cache import per_data_version
from server.deps import SettingsDep
from server.dump_links import announced_dumps
from server.page_queries import label_index, page_query
from server.rendering import PageRoute, page_number, pager, render, root_path
from server.terms import (
    DISPLAY_PREFIXES,
    browse_path,
    compact,
    label_literal,
    language_tag,
    local_path,
    node,
)
from server.versions import described, describes

log = logging.getLogger(__name__)

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

router = APIRouter(tags=["pages"], route_class=PageRoute)


# --- the front page ----------------------------------------------------------------------------


def class_breakdown(request: Request, counted: dict) -> dict[str, list[dict]]:
    """The classes of each group with their counts and where to browse them."""
    groups: dict[str, list[dict]] = {key: [] for key, _, _ in GROUPS}
    for row in counted["classes"]:
        groups.setdefault(row["group"], []).append({
            "iri": row["iri"], "label": row["label"], "count": row["count"],
            "href": browse_path(request, row["iri"]) or local_path(request, row["iri"]),
        })
    return groups


def card_groups(request: Request, counted: dict) -> list[dict]:
    """The front page's cards: a group's total (None: being counted) and its classes."""
    breakdown, totals = class_breakdown(request, counted), counted["totals"]
    return [{"key": key, "title": title, "count": totals.get(key, 0),
             "browse": f"{root_path(request)}/browse?class={cls}",
             "classes": breakdown.get(key, [])}
            for key, title, cls in GROUPS
            if key != "rows" or totals.get(key) or (key in totals and totals[key] is None)]


def browse_groups(request: Request, counted: dict) -> list[dict]:
    """The browse index's cards: every group with its classes."""
    breakdown = class_breakdown(request, counted)
    return [{"title": title, "classes": breakdown.get(key, [])} for key, title, _ in GROUPS]


async def still_counting(request: Request, template: str,
                         groups: Callable[[Request, dict], list[dict]], **context) -> Response:
    """The page made from what the label index knows while the first count goes on: it says
    so, reloads itself, and is kept by no cache."""
    counted = await front_counts.at_once(request.app, label_index(request))
    version = getattr(request.app.state, "data_version", 0)
    describes(request, version)  # the label index follows every write: it is current
    return render(request, template, headers={"Cache-Control": "no-store"},
                  groups=groups(request, counted), counting=True,
                  rows_pending=counted["totals"].get("rows") is None,
                  refresh=front_counts.REFRESH, counts_version=version,
                  current_version=version, **context)


@router.get("/", name="home", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> Response:
    found = await front_counts.counted(request, front_counts.HOME)
    title = "City diplomacy knowledge graph"
    if found is None:
        dumps = await announced_dumps(request, [], licences={})
        return await still_counting(request, "home.html", card_groups, dumps=dumps, triples=None,
                                    graphs=[], title=title)
    graph_counts = found[front_counts.COUNTS]["graphs"]
    graphs = [{"iri": iri, "name": compact(iri), "triples": n}
              for iri, n in sorted(graph_counts.items())]
    dumps = await announced_dumps(request, list(graph_counts),
                                  licences=found[front_counts.LICENCES])
    version, current = described(request)
    return render(request, "home.html", dumps=dumps,
                  groups=card_groups(request, found[front_counts.FRONT_PAGE]),
                  triples=describe.triples(found[front_counts.COUNTS]), graphs=graphs,
                  default_graph=found[front_counts.COUNTS].get("default_graph", 0), title=title,
                  counts_version=version, current_version=current)


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
        found = await front_counts.counted(request, front_counts.BROWSE)
        if found is None:
            return await still_counting(request, "browse_index.html", browse_groups,
                                        title="Browse by class")
        return render(request, "browse_index.html", title="Browse by class",
                      groups=browse_groups(request, found[front_counts.FRONT_PAGE]))
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
