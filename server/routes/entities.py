"""Linked Data: `/id/{kind}/{slug}` serves the resource `{resource_base}{kind}/{slug}`.

A page for people (labels, types, statements out and in, partnerships, the source passages), and
the concise bounded description as Turtle, JSON-LD, N-Triples (or RDF/XML, TriG) for programs,
chosen by `Accept` or `?format=`.
"""

from __future__ import annotations

import re
import secrets
import time
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from rdflib.namespace import RDFS, SKOS

from graph.core.namespaces import SHORTCUTS_GRAPH
from graph.sparql.formats import BY_NAME, HTML, Format, NotAcceptable, negotiate
from graph.sparql.text import bind_values
from server.deps import BackendDep, SettingsDep
from server.page_cache import kept_or_made
from server.page_lists import page_lists
from server.page_queries import label_index, page_query, page_rows
from server.rendering import PageRoute, page_number, pager, render, root_path
from server.replay import follows_version
from server.terms import (
    DISPLAY_PREFIXES,
    browse_path,
    label_literal,
    language_name,
    language_rank,
    language_tag,
    node,
    value,
)

router = APIRouter(tags=["Linked Data"], route_class=PageRoute)

KIND = re.compile(r"[a-z0-9-]+")
SLUG = re.compile(r"[A-Za-z0-9._~-]+")
NOTES = {str(RDFS.comment), str(SKOS.editorialNote)}
ALTERNATES = ("ttl", "jsonld", "nt")
# `id:` would turn every resource into an escaped local name (id:city\/gdynia): leave it out.
SERIALIZE_PREFIXES = {p: ns for p, ns in DISPLAY_PREFIXES.items() if p not in ("id", "sh")}


def choose_format(request: Request) -> Format | None:
    """The RDF format the client asked for, or None for the HTML page (the default)."""
    fmt = negotiate(request.headers.get("accept"), "DESCRIBE", request.query_params.get("format"),
                    page=True)
    return None if fmt is HTML else fmt


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
    representation = fmt.name if fmt is not None else "html"
    etag, modified = validators(request.app.state, representation)
    headers.update({"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True),
                    "Cache-Control": "no-cache"})
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    if fmt is not None:
        response = await kept_or_made(request, fmt.name,
                                      lambda: describe(request, iri, fmt, headers), about=iri)
    else:
        response = await kept_or_made(request, "html", lambda: page(request, iri, links, headers),
                                      about=iri)
    if response.status_code != 200:  # a 404 or 400 is not to be revalidated as if it were data
        for name in ("ETag", "Last-Modified"):
            del response.headers[name]
    else:  # a page kept across writes that did not change it: the current version's validators
        response.headers["ETag"], response.headers["Last-Modified"] = \
            headers["ETag"], headers["Last-Modified"]
        follows_version(request, lambda state: validator_headers(state, representation))
    return response


def validators(state: Any, representation: str) -> tuple[str, float]:
    """The ETag and Last-Modified of the current data version, for one representation.

    The data version is the server's count of committed writes; the ETag also names this run
    of the server (a restart may load other data) and the representation (Accept varies it).
    Last-Modified is when this server first saw the version: never before the change itself.
    """
    version, run, modified, _ = current_validators(state)
    return f'W/"{run}-{version}-{representation}"', modified


def validator_headers(state: Any, representation: str) -> list[tuple[bytes, bytes]]:
    """`ETag` and `Last-Modified` of the current data version, as sent (server/replay.py)."""
    etag, modified = validators(state, representation)
    return [(b"etag", etag.encode()),
            (b"last-modified", formatdate(modified, usegmt=True).encode())]


def current_validators(state: Any) -> tuple[int, str, float, bool]:
    """(data version, run, Last-Modified, whether the version before it was first seen in the
    same second: then Last-Modified cannot tell them apart), from the app's state."""
    version = getattr(state, "data_version", 0)
    kept = getattr(state, "page_validators", None)
    if kept is None or kept[0] != version:
        run = kept[1] if kept is not None else secrets.token_hex(4)
        before = kept[2] if kept is not None else 0.0
        modified = max(float(int(time.time())), before)  # never back, if the clock is set back
        kept = state.page_validators = (version, run, modified, modified == before)
    return kept


def not_modified(request: Request, etag: str, modified: float) -> bool:
    """Whether a conditional GET or HEAD is answered by 304 (If-None-Match first, RFC 9110).

    If-Modified-Since has whole seconds: a date in the very second the current version was
    first seen, when the one before it was first seen in that second too, may be a client's
    copy of the older version, so it is not answered 304."""
    if request.method not in ("GET", "HEAD"):
        return False
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            when = parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if current_validators(request.app.state)[3] and int(when) == int(modified):
            return False
        return modified <= when
    return False


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
    if not triples and label_index(request).describe(iri) is None and not await page_rows(
            request, "entity-in", resource=iri):
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


LISTS = ("out", "in", "partnerships")
"""The entity page's paged lists, each with its own page parameter (`?in=2`)."""


def full_list(request: Request, name: str, iri: str) -> dict:
    """Links to a whole list: its rows as CSV from the endpoint, its SPARQL on the query page."""
    query = page_query(request, name)
    text = bind_values(query.text, query.bindings({"resource": iri}))
    root = root_path(request)
    return {"csv": f"{root}/sparql?{urlencode({'query': text, 'format': 'csv'})}",
            "sparql": f"{root}/query?{urlencode({'query': text})}"}


async def page(request: Request, iri: str, links: list[dict], headers: dict) -> Response:
    settings = request.app.state.settings
    index = label_index(request)
    size = settings.page_size
    # ints once the None check below has passed
    numbers: dict[str, Any] = {name: page_number(request, name) for name in LISTS}
    if None in numbers.values():
        return PlainTextResponse("out, in and partnerships are page numbers from 1\n",
                                 status_code=400, headers=headers)
    lists = await page_lists(request, iri, numbers, size)
    (out_rows, more_out), (in_rows, more_in), (partner_rows, more_partners) = \
        lists.pages["out"], lists.pages["in"], lists.pages["partnerships"]
    is_party = any(row["partnership"].value != iri for row in partner_rows)
    known = index.describe(iri)
    if not out_rows and not in_rows and not partner_rows and known is None:
        return not_found(request, iri, None, headers)
    names = index.names(name_iris(out_rows, in_rows, partner_rows, known))
    view = entity_view(request, iri, known or ([], []), out_rows, in_rows, names)
    view["partnerships"] = partnerships(request, partner_rows, names)
    view["pagers"] = {
        "out": pager(request, "out", numbers["out"], size, len(out_rows), more_out,
                     anchor="#statements"),
        "in": pager(request, "in", numbers["in"], size, len(in_rows), more_in,
                    anchor="#referenced"),
        "partnerships": pager(request, "partnerships", numbers["partnerships"], size,
                              len(partner_rows), more_partners, anchor="#partnerships"),
    }
    view["full"] = {name: full_list(request, f"entity-{name}", iri)
                    for name, number, more in (("out", numbers["out"], more_out),
                                               ("in", numbers["in"], more_in),
                                               ("partnerships", numbers["partnerships"],
                                                more_partners))
                    if more or number > 1}
    view["ego_path"] = f"/viz/ego/{kind_slug(iri, settings)}" if is_party else None
    view["map_path"] = lists.map_path if is_party else None
    view["passages"] = passages(request, iri, view["title"], lists.passages, in_rows, names)
    view["passage_count"] = lists.passage_count
    view["passages_of_page"] = lists.passages_of_page
    view["all_passages"] = f"{root_path(request)}/queries/source-of?{urlencode({'resource': iri})}"
    return render(request, "entity.html", headers=headers, iri=iri, alternates=links,
                  **view)


def name_iris(out_rows: list[dict], in_rows: list[dict], partner_rows: list[dict],
              known) -> list[str]:
    """Every IRI the page shows, to name them all with one look-up in the label index."""
    iris: list[str] = []
    for row in out_rows:
        iris.append(row["p"].value)
        if isinstance(row["o"], ox.NamedNode):
            iris.append(row["o"].value)
    for row in in_rows:
        iris += [row["p"].value, row["s"].value]
    for row in partner_rows:
        iris.append(row["partnership"].value)
        iris += (value(row, "kinds") or "").split()
        iris += [pair.partition("|")[2] for pair in (value(row, "participants") or "").split()]
        if row.get("status") is not None:
            iris.append(row["status"].value)
    if known:
        iris += known[1]
    return iris


def labelled(request: Request, term, names: dict) -> dict:
    """A term as the templates show it, named from the label index."""
    if isinstance(term, ox.NamedNode) and term.value in names:
        name, lang, zh = names[term.value]
        return node(request, term, label_literal(name, lang), label_literal(zh, "zh-hant"))
    return node(request, term)


def entity_view(request: Request, iri: str, known: tuple, out_rows: list[dict],
                in_rows: list[dict], names: dict) -> dict:
    labels, types, notes = [], [], []
    for text, lang, alt in known[0]:
        tag = language_tag(lang)
        labels.append({"text": text, "lang": tag, "language": language_name(tag), "alt": alt})
    for cls in known[1]:
        kind = labelled(request, ox.NamedNode(cls), names)
        listing = browse_path(request, cls)
        if listing:  # a class of ours: link to its instances here rather than out
            kind.update(href=listing, local=True)
        types.append(kind)
    statements: dict[str, dict] = {}
    for row in out_rows:
        p, o = row["p"].value, row["o"]
        if p in NOTES and isinstance(o, ox.Literal):
            notes.append(node(request, o))
            continue
        group = statements.setdefault(p, {"predicate": labelled(request, row["p"], names),
                                          "objects": []})
        derived = str(SHORTCUTS_GRAPH) in (value(row, "graphs") or "").split()
        group["objects"].append({"node": labelled(request, o, names), "derived": derived})
    labels.sort(key=lambda lab: (language_rank(lab["lang"]), lab["alt"], lab["text"]))
    referenced: dict[str, dict] = {}
    for row in in_rows:
        group = referenced.setdefault(row["p"].value, {
            "predicate": labelled(request, row["p"], names), "subjects": []})
        group["subjects"].append(labelled(request, row["s"], names))
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


def partnerships(request: Request, rows: list[dict], names: dict) -> list[dict]:
    result = []
    for row in rows:
        item: dict = {
            "node": labelled(request, row["partnership"], names),
            "kinds": [labelled(request, ox.NamedNode(k), names)["text"]
                      for k in (value(row, "kinds") or "").split()],
            "dates": sorted((value(row, "dates") or "").split()),
            "date_not_stated": value(row, "dateNotStated") == "true",
            "status": labelled(request, row["status"], names)["text"]
            if row.get("status") is not None else None,
            "party": [], "signatory": [], "witness": []}
        for pair in sorted((value(row, "participants") or "").split()):
            part, _, actor = pair.partition("|")
            if part in ("party", "signatory", "witness"):
                item[part].append(labelled(request, ox.NamedNode(actor), names))
        for part in ("party", "signatory", "witness"):
            item[part].sort(key=lambda n: n["text"].casefold())
        result.append(item)
    return result


def passages(request: Request, iri: str, title: str, rows: list[dict],
             in_rows: list[dict], names: dict) -> list[dict]:
    """The quoted passages behind the resource and behind the statements that mention it,
    the first CITYDIP_PAGE_PASSAGES of them in the order of the source (the rows come so)."""
    shown = request.app.state.settings.page_passages
    kept: set[str] = set()
    within = []
    for row in rows:
        if row["passage"].value in kept or len(kept) < shown:
            kept.add(row["passage"].value)
            within.append(row)
    names = {**names, **label_index(request).names(
        r["statement"].value for r in within if r["statement"].value not in names)}
    found: dict[str, dict] = {}
    for row in within:
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
            item["statements"][statement] = labelled(request, row["statement"], names)
    result = [{**i, "statements": list(i["statements"].values())} for i in found.values()]
    result.sort(key=lambda i: i["start"])
    return result
