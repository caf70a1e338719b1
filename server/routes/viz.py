"""`/viz/...`: pictures of the partnership web (vis-network, served locally, never from a CDN).

`/viz/network` the whole (filtered) web, `/viz/ego/{kind}/{slug}` an actor's neighbourhood,
`/viz/path?from=&to=` a chain of partnerships, `/viz/countries` the web by country. The pictures
are built by `graph.network.viz`; this module only reads the request and picks the page.
"""

from __future__ import annotations

from typing import Annotated, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from graph.network.data import NetworkData
from graph.network.viz import (
    NODE_BUDGET,
    TEMPLATES_DIR,
    Picture,
    country_picture,
    ego_picture,
    network_picture,
    path_picture,
    render,
)
from server.network_views import (
    PRERENDER,
    FilterDep,
    FilterQuery,
    VizRoute,
    complete_later,
    data_version,
    network_data,
    open_view,
    persist,
    persisted,
    result_name,
)
from server.rendering import CONTENT_SECURITY_POLICY

ASSETS = {"viz.js": "text/javascript; charset=utf-8", "viz.css": "text/css; charset=utf-8"}
ColourBy = Annotated[str, Query(alias="color", pattern="^(class|community)$",
                                description="Colour nodes by class or by community")]


router = APIRouter(prefix="/viz", tags=["pictures"], route_class=VizRoute)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _page(request: Request, picture: Picture, form: dict | None = None) -> HTMLResponse:
    text = render(picture, root=_root(request), form=form)
    return HTMLResponse(text, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def _form(request: Request, data: NetworkData, filters: FilterQuery, action: str,
          colour: str | None = "class") -> dict:
    """The filter form of a page, with the values of the request selected."""
    vocab = data.vocabulary()
    raw = filters.raw
    fields = []
    for name, key, label in (("kind", "kind", "kind"), ("country", "country", "country"),
                             ("topic", "topic", "topic"), ("class", "actor_class", "actor")):
        fields.append({"name": name, "label": label, "options": vocab[name], "any": True,
                       "selected": set(raw[key])})
    if colour is not None:
        fields.append({"name": "color", "label": "colour by", "any": False, "selected": {colour},
                       "options": [{"id": "class", "label": "class"},
                                   {"id": "community", "label": "community"}]})
    keep = [(k, v) for k, v in request.query_params.multi_items() if k != "color"]
    return {"action": _root(request) + action, "selects": fields, "since": raw["since"],
            "until": raw["until"], "hidden": [],
            "by_country": f"{_root(request)}/viz/countries?{urlencode(keep)}"}


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("no such asset\n", status_code=404, media_type="text/plain")
    return FileResponse(TEMPLATES_DIR / "viz" / name, media_type=ASSETS[name])


@router.get("/network", response_class=HTMLResponse, summary="Picture of the whole web")
async def network_page(request: Request, filters: FilterDep, colour: ColourBy = "class",
                       budget: Annotated[int, Query(ge=10, le=5000)] = NODE_BUDGET
                       ) -> Response:
    links = _root(request) + "/id/"
    name = result_name("viz-network", filters.raw, colour, budget, links)
    found = await persisted(request, name)  # a restart with unchanged data draws from here
    if found is not None:
        return HTMLResponse(found["html"],
                            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
    view = await open_view(request, filters)
    version = data_version(request)
    if version != getattr(request.app.state, "data_version", 0):  # served stale: kept?
        found = await persisted(request, name, version)
        if found is not None:
            return HTMLResponse(found["html"],
                                headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
    picture = await run_in_threadpool(  # made once per view, colouring and budget
        view.analysis.memo, f"picture:network:{colour}:{budget}:{links}",
        lambda: network_picture(view, color_by=colour, links=links, budget=budget,
                                max_bytes=request.app.state.settings.picture_max_bytes))
    stats = await run_in_threadpool(view.stats_now,
                                    request.app.state.settings.network_background_nodes)
    if stats["pending"]:
        complete_later(request.app, view, version, result_name("stats", filters.raw))
    form = _form(request, view.data, filters, "/viz/network", colour)
    form["measures"] = _measures(request, stats, version)
    page = _page(request, picture, form)
    await run_in_threadpool(persist, request.app, version, name,  # HTML: bytes
                            {"html": cast(bytes, page.body).decode("utf-8")},
                            provisional=bool(stats["pending"]))
    return page


def _measures(request: Request, stats: dict, version) -> dict:
    """The line of measures under the picture: exact cheap ones, and what is still computing."""
    current = getattr(request.app.state, "data_version", 0)
    communities = stats.get("communities") or {}
    distances = stats.get("largest_component") or {}
    return {"components": stats["components"]["count"],
            "largest": stats["components"]["largest"],
            "communities": communities.get("count"), "modularity": communities.get("modularity"),
            "diameter": distances.get("diameter"), "mean_distance": distances.get("mean_distance"),
            "pending": stats["pending"], "version": version,
            "current": current if current != version else None}


@router.get("/ego/{path_kind}/{slug}", response_class=HTMLResponse,
            summary="Picture of an actor's neighbourhood")
async def ego_page(request: Request, path_kind: str, slug: str, filters: FilterDep,
                   radius: Annotated[int, Query(ge=1, le=4)] = 1,
                   colour: ColourBy = "class") -> Response:
    view = await open_view(request, filters)
    picture = await run_in_threadpool(
        lambda: ego_picture(view, f"{path_kind}/{slug}", radius, color_by=colour,
                            links=_root(request) + "/id/"))
    return _page(request, picture,
                 _form(request, view.data, filters, f"/viz/ego/{path_kind}/{slug}", colour))


@router.get("/path", response_class=HTMLResponse, summary="Picture of a chain of partnerships")
async def path_page(request: Request, filters: FilterDep,
                    source: Annotated[str, Query(alias="from")],
                    target: Annotated[str, Query(alias="to")],
                    colour: ColourBy = "class") -> Response:
    view = await open_view(request, filters)
    picture = await run_in_threadpool(
        lambda: path_picture(view, source, target, color_by=colour,
                             links=_root(request) + "/id/"))
    form = _form(request, view.data, filters, "/viz/path", colour)
    form["hidden"] = [{"name": "from", "value": source}, {"name": "to", "value": target}]
    return _page(request, picture, form)


@router.get("/countries", response_class=HTMLResponse, summary="Picture of the web by country")
async def countries_page(request: Request, filters: FilterDep) -> Response:
    data = await network_data(request)
    view = await open_view(request, filters, "country")
    links = _root(request) + "/id/"
    picture = await run_in_threadpool(view.analysis.memo, f"picture:countries:{links}",
                                      lambda: country_picture(view, links=links))
    form = _form(request, data, filters, "/viz/countries", colour=None)
    form["by_country"] = None
    return _page(request, picture, form)


async def prerender_network_page(app) -> None:
    """The default /viz/network page of the served data, made and persisted ahead (warm start,
    and after each new data version is read in the background)."""
    scope = {"type": "http", "app": app, "root_path": "", "query_string": b"", "headers": [],
             "path": "/viz/network", "method": "GET", "state": {"ahead": True}}
    await network_page(Request(scope), FilterQuery(), "class", NODE_BUDGET)


PRERENDER.append(prerender_network_page)
