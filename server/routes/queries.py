"""The named-query catalogue: list it, and run a query with typed parameters."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from graph.sparql.catalogue import NamedQuery, ParamError, QueryError, catalogue, get_query
from graph.store.execution import QueryJob
from server import kept_answers
from server.deps import BackendDep, SettingsDep
from server.page_cache import kept_or_made
from server.rendering import PageRoute, pager, render, wants_html
from server.responses import error, run_query
from server.terms import node

router = APIRouter(tags=["named queries"], route_class=PageRoute)
RESERVED = {"format"}


@router.get("/queries", summary="The catalogue of named queries with their parameters")
async def list_queries(settings: SettingsDep) -> JSONResponse:
    return JSONResponse([q.to_dict() for q in catalogue(settings.queries_dir).values()])


@router.get("/queries/{name}", summary="Run a named query; parameters come from the query string")
async def run_named(name: str, request: Request, backend: BackendDep,
                    settings: SettingsDep) -> Response:
    try:
        query = get_query(settings.queries_dir, name)
    except QueryError as exc:
        return error(404, str(exc))
    reserved = RESERVED | ({"limit", "offset"} if query.paging else set())
    values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in reserved:
            continue
        if key in values:
            return JSONResponse({"detail": {"param": key, "message": "given more than once"}},
                                status_code=422)
        values[key] = value
    try:
        bindings = query.bindings(values)
    except ParamError as exc:
        return JSONResponse({"detail": {"param": exc.name, "message": str(exc)}},
                            status_code=422)
    text = query.text
    if query.paging:
        page = paging(request, query, settings.max_rows)
        if isinstance(page, Response):
            return page
        html = wants_html(request) and request.query_params.get("format") is None
        if html:  # a page of rows, kept until the next write like an entity page
            return await kept_or_made(request, "html", lambda: rows_page(
                request, query, values, bindings, *page))
        if "limit" in request.query_params or "offset" in request.query_params:
            text = query.page_text(*page)
    job = QueryJob(text, bindings, accept=request.headers.get("accept"),
                   format=request.query_params.get("format"), max_rows=settings.max_rows)
    if query.about is not None:  # kept like the entity page of the resource it is about
        return await kept_or_made(request, f"answer {request.headers.get('accept', '')}",
                                  lambda: run_query(backend, job),
                                  about=bindings[query.about].value)
    return await run_query(backend, job)


def paging(request: Request, query: NamedQuery, max_rows: int) -> tuple[int, int] | Response:
    """`limit` (default: the query's rows a page) and `offset` (default 0), checked."""
    assert query.paging is not None  # called for paged queries only
    found = {}
    for name, default, low, high in (("limit", query.paging["limit"], 1, max_rows),
                                      ("offset", 0, 0, 10**9)):
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            found[name] = default
        elif raw.isdigit() and low <= int(raw) <= high:
            found[name] = int(raw)
        else:
            return JSONResponse({"detail": {"param": name, "message": f"{name} must be a whole "
                                            f"number from {low} to {high}"}}, status_code=422)
    return found["limit"], found["offset"]


async def rows_page(request: Request, query: NamedQuery, values: dict, bindings: dict,
                    limit: int, offset: int) -> Response:
    """One page of a paged query's rows as an HTML table, with links to the whole answer."""
    if kept_answers.kept(query) and offset + limit <= request.app.state.settings.max_rows:
        try:
            every = await kept_answers.answer_rows(request, query, bindings)
        except kept_answers.StillComputing:
            return computing(request, query)
        rows = every[offset:offset + limit + 1]
    else:
        rows = await request.app.state.backend.select(query.page_text(limit + 1, offset),
                                                      bindings)
    more = len(rows) > limit
    rows = rows[:limit]
    columns = list(rows[0]) if rows else []
    table = [[node(request, row[c]) if row.get(c) is not None else None for c in columns]
             for row in rows]
    base = f"{request.url.path}"
    whole = {fmt: f"{base}?{urlencode({**values, 'format': fmt})}" for fmt in ("csv", "json")}
    links = pager(request, "offset", 1, limit, len(rows), more)
    # The pager counts pages; this list counts rows: rewrite its links with offsets.
    keep = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    links["first"], links["last"] = offset + 1 if rows else 0, offset + len(rows)
    links["prev"] = (f"{base}?{urlencode(keep + [('offset', max(0, offset - limit))])}"
                     if offset > 0 else None)
    links["next"] = f"{base}?{urlencode(keep + [('offset', offset + limit)])}" if more else None
    return render(request, "query_rows.html", query=query, values=values, columns=columns,
                  rows=table, pager=links, whole=whole, title=query.summary)


def computing(request: Request, query: NamedQuery) -> Response:
    """202: the answer is being computed (longer than a visitor's query may take); the page
    reloads itself."""
    wait = 5
    return render(request, "query_computing.html", 202, {"Retry-After": str(wait)},
                  query=query, wait=wait, title=query.summary)
