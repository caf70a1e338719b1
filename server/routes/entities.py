"""Linked Data: `/id/{kind}/{slug}` serves the resource `{resource_base}{kind}/{slug}`.

A page for people (labels, types, statements out and in, partnerships, the source passages), and
the concise bounded description as Turtle, JSON-LD, N-Triples (or RDF/XML, TriG) for programs,
chosen by `Accept` or `?format=`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import quote

import mimeparse
import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from graph.formats import ALIASES, BY_NAME, GRAPH_FORMATS, Format, NotAcceptable, negotiate
from graph.namespaces import SHORTCUTS_GRAPH
from graph.queries import get_query
from server.deps import BackendDep, SettingsDep
from server.routes.pages import (
    DISPLAY_PREFIXES,
    PageRoute,
    browse_path,
    language_name,
    language_rank,
    language_tag,
    node,
    page_query,
    page_rows,
    render,
    root_path,
    value,
)
from server.routes.viz_map import map_path

router = APIRouter(tags=["Linked Data"], route_class=PageRoute)

KIND = re.compile(r"[a-z0-9-]+")
SLUG = re.compile(r"[A-Za-z0-9._~-]+")
HTML_TYPES = ["application/xhtml+xml", "text/html"]
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABELS = {"http://www.w3.org/2000/01/rdf-schema#label": False,
          "http://www.w3.org/2004/02/skos/core#altLabel": True}
NOTES = {"http://www.w3.org/2000/01/rdf-schema#comment",
         "http://www.w3.org/2004/02/skos/core#editorialNote"}
ALTERNATES = ("ttl", "jsonld", "nt")
# `id:` would turn every resource into an escaped local name (id:city\/gdynia): leave it out.
SERIALIZE_PREFIXES = {p: ns for p, ns in DISPLAY_PREFIXES.items() if p not in ("id", "sh")}


def choose_format(request: Request) -> Format | None:
    """The RDF format the client asked for, or None for the HTML page (the default)."""
    requested = request.query_params.get("format")
    if requested:
        if requested.lower() in ("html", "text/html"):
            return None
        return negotiate(None, "DESCRIBE", requested)
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return None
    offered = [a for a, n in ALIASES.items() if "/" in a and BY_NAME[n] in GRAPH_FORMATS]
    offered += [f.media_type for f in reversed(GRAPH_FORMATS)]
    offered += HTML_TYPES  # mimeparse favours the last of equals: `*/*` gets the page
    try:
        best = mimeparse.best_match(offered, accept)
    except (ValueError, mimeparse.MimeTypeParseException):
        best = ""
    if not best:
        types = ", ".join(["text/html"] + [f.media_type for f in GRAPH_FORMATS])
        raise NotAcceptable(f"none of the accepted types is offered; offered: {types}")
    return None if best in HTML_TYPES else negotiate(best, "DESCRIBE")


def alternates(request: Request, kind: str, slug: str) -> list[dict]:
    path = f"{root_path(request)}/id/{quote(kind, safe='')}/{quote(slug, safe='')}"
    return [{"href": f"{path}?format={name}", "type": BY_NAME[name].media_type,
             "name": {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples"}[name]}
            for name in ALTERNATES]


def link_header(links: list[dict]) -> str:
    return ", ".join(f'<{a["href"]}>; rel="alternate"; type="{a["type"]}"' for a in links)


@router.api_route("/id/{kind}/{slug}", methods=["GET", "HEAD"], name="entity",
                  summary="A resource: HTML page or RDF description")
async def entity(kind: str, slug: str, request: Request, backend: BackendDep,
                 settings: SettingsDep) -> Response:
    links = alternates(request, kind, slug)
    headers = {"Vary": "Accept", "Link": link_header(links)}
    iri = f"{settings.resource_base}{kind}/{slug}"
    try:
        fmt = choose_format(request)
    except NotAcceptable as exc:
        return PlainTextResponse(f"{exc}\n", status_code=406, headers=headers)
    if not (KIND.fullmatch(kind) and SLUG.fullmatch(slug)):
        return not_found(request, iri, fmt, headers)
    if fmt is not None:
        return await describe(request, iri, fmt, headers)
    return await page(request, iri, links, headers)


def not_found(request: Request, iri: str, fmt: Format | None, headers: dict) -> Response:
    """404: the page for browsers (the format negotiated as HTML), plain text for programs."""
    message = f"There is nothing about <{iri}> in this graph."
    if fmt is not None:
        return PlainTextResponse(message + "\n", status_code=404, headers=headers)
    return render(request, "not_found.html", status=404, headers=headers, iri=iri,
                  message=message, title="Not found")


async def describe(request: Request, iri: str, fmt: Format, headers: dict) -> Response:
    query = page_query(request, "describe")
    triples = await request.app.state.backend.construct(
        query.text, query.bindings({"resource": iri}))
    if not triples and not await page_rows(request, "entity-in", resource=iri):
        return not_found(request, iri, fmt, headers)
    # The union default graph repeats a triple that several named graphs state.
    unique = list(dict.fromkeys(triples))
    body = ox.serialize(unique, format=fmt.rdf, prefixes=SERIALIZE_PREFIXES)
    media = fmt.media_type
    if media.startswith("text/") or fmt.name in ("jsonld", "nt"):
        media += "; charset=utf-8"
    return Response(body, media_type=media, headers=headers)


def kind_slug(iri: str, settings) -> str:
    """`{kind}/{slug}` of a resource under the resource base."""
    return iri.removeprefix(settings.resource_base)


async def page(request: Request, iri: str, links: list[dict], headers: dict) -> Response:
    settings = request.app.state.settings
    sources = get_query(Path(settings.queries_dir), "source-of")
    out_rows, in_rows, partner_rows, source_rows = await asyncio.gather(
        page_rows(request, "entity-out", resource=iri),
        page_rows(request, "entity-in", resource=iri),
        page_rows(request, "entity-partnerships", resource=iri),
        request.app.state.backend.select(sources.text, sources.bindings({"resource": iri})),
    )
    if not out_rows and not in_rows:
        return not_found(request, iri, None, headers)
    view = entity_view(request, iri, out_rows, in_rows)
    view["partnerships"] = partnerships(request, partner_rows)
    is_party = any(row["actor"].value == iri and (value(row, "part") or "party") == "party"
                   for row in partner_rows)
    view["ego_path"] = f"/viz/ego/{kind_slug(iri, settings)}" if is_party else None
    view["map_path"] = await map_path(request, iri) if is_party else None
    view["passages"] = passages(request, iri, view["title"], source_rows, in_rows)
    return render(request, "entity.html", headers=headers, iri=iri, alternates=links,
                  **view)


def entity_view(request: Request, iri: str, out_rows: list[dict], in_rows: list[dict]) -> dict:
    labels, types, notes = [], [], []
    statements: dict[str, dict] = {}
    for row in out_rows:
        p, o = row["p"].value, row["o"]
        if p in LABELS and isinstance(o, ox.Literal):
            tag = language_tag(o.language)
            labels.append({"text": o.value, "lang": tag, "language": language_name(tag),
                           "alt": LABELS[p]})
        elif p == RDF_TYPE:
            kind = node(request, o, row.get("oLabel"), row.get("oLabelZh"))
            listing = browse_path(request, o.value) if isinstance(o, ox.NamedNode) else None
            if listing:  # a class of ours: link to its instances here rather than out
                kind.update(href=listing, local=True)
            types.append(kind)
        elif p in NOTES and isinstance(o, ox.Literal):
            notes.append(node(request, o))
        else:
            group = statements.setdefault(p, {"predicate": node(request, row["p"],
                                                               row.get("pLabel")),
                                               "objects": []})
            derived = str(SHORTCUTS_GRAPH) in (value(row, "graphs") or "").split()
            group["objects"].append({"node": node(request, o, row.get("oLabel"),
                                                  row.get("oLabelZh")),
                                     "derived": derived})
    labels.sort(key=lambda lab: (language_rank(lab["lang"]), lab["alt"], lab["text"]))
    referenced: dict[str, dict] = {}
    for row in in_rows:
        group = referenced.setdefault(row["p"].value, {
            "predicate": node(request, row["p"], row.get("pLabel")), "subjects": []})
        group["subjects"].append(node(request, row["s"], row.get("sLabel"),
                                      row.get("sLabelZh")))
    for group in referenced.values():
        group["subjects"].sort(key=lambda n: n["text"].casefold())
    title, title_lang = title_of(labels, iri)
    return {
        "title": title,
        "title_lang": title_lang,
        "subtitle": next((lab for lab in labels if lab["lang"] == "zh-Hant" and not lab["alt"]),
                         None),
        "labels": labels,
        "types": types,
        "notes": notes,
        "statements": sorted(statements.values(),
                             key=lambda g: g["predicate"]["text"].casefold()),
        "referenced": sorted(referenced.values(),
                             key=lambda g: g["predicate"]["text"].casefold()),
    }


def title_of(labels: list[dict], iri: str) -> tuple[str, str]:
    """The page's heading and its language: the English label, else the Chinese, else any."""
    main = [lab for lab in labels if not lab["alt"]]
    for tag in ("en", "zh-Hant"):
        for lab in main:
            if lab["lang"] == tag:
                return lab["text"], tag
    if main:
        return main[0]["text"], main[0]["lang"]
    return iri.rstrip("/").rsplit("/", 1)[-1], "en"


def partnerships(request: Request, rows: list[dict]) -> list[dict]:
    found: dict[str, dict] = {}
    for row in rows:
        key = row["partnership"].value
        item = found.setdefault(key, {
            "node": node(request, row["partnership"], row.get("label"), row.get("labelZh")),
            "kinds": {}, "dates": {}, "date_not_stated": False, "status": None,
            "party": {}, "signatory": {}, "witness": {}})
        item["kinds"][row["kind"].value] = value(row, "kindLabel") or node(
            request, row["kind"])["text"]
        if row.get("date") is not None:
            item["dates"][row["date"].value] = True
        if value(row, "dateNotStated") == "true":
            item["date_not_stated"] = True
        item["status"] = item["status"] or value(row, "statusLabel")
        part = value(row, "part") or "party"
        item[part][row["actor"].value] = node(request, row["actor"], row.get("actorLabel"),
                                              row.get("actorLabelZh"))
    result = []
    for item in found.values():
        result.append({**item, "kinds": list(item["kinds"].values()),
                       "dates": sorted(item["dates"]),
                       "party": list(item["party"].values()),
                       "signatory": list(item["signatory"].values()),
                       "witness": list(item["witness"].values())})
    result.sort(key=lambda i: (i["dates"][0] if i["dates"] else "9999", i["node"]["text"]))
    return result


def passages(request: Request, iri: str, title: str, rows: list[dict],
             in_rows: list[dict]) -> list[dict]:
    """The quoted passages behind the resource and behind the statements that mention it."""
    labels = {r["s"].value: (r.get("sLabel"), r.get("sLabelZh")) for r in in_rows}
    found: dict[str, dict] = {}
    for row in rows:
        key = row["passage"].value
        start, end = int(row["lineStart"].value), int(row["lineEnd"].value)
        quote = row["quote"]
        item = found.setdefault(key, {
            "node": node(request, row["passage"]),
            "quote": {"text": quote.value, "lang": language_tag(quote.language)},
            "start": start,
            "lines": f"line {start}" if start == end else f"lines {start}–{end}",
            "section": value(row, "section"),
            "report": value(row, "reportTitle"),
            "statements": {}})
        statement = row["statement"].value
        if statement == iri:
            item["statements"][statement] = {"text": "this resource", "href": None,
                                             "kind": "self"}
        else:
            label, label_zh = labels.get(statement, (None, None))
            item["statements"][statement] = node(request, row["statement"], label, label_zh)
    result = [{**i, "statements": list(i["statements"].values())} for i in found.values()]
    result.sort(key=lambda i: i["start"])
    return result
