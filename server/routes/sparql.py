"""The SPARQL 1.1 Protocol query operation at /sparql (read-only)."""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from graph.sparql.guard import (
    CACHED_TEXT_CHARS,
    UnsafeQuery,
    check_query,
    expand_escapes,
    is_update,
)
from graph.sparql.limits import LimitExceeded, check_nesting
from graph.store.execution import QueryJob
from server.describe import service_description
from server.kept_queries import kept_reads
from server.page_cache import kept_or_made
from server.responses import error, run_query

router = APIRouter(tags=["SPARQL"])
MAX_QUERY_BYTES = 1_000_000
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


@router.get("/sparql", name="sparql", summary="SPARQL query (GET), or the service description")
async def sparql_get(request: Request) -> Response:
    # The protocol endpoint reads the app's state itself: resolving FastAPI dependencies costs
    # about a tenth of a small query's whole answer time here.
    backend, settings = request.app.state.backend, request.app.state.settings
    params = request.query_params.multi_items()
    if not any(k == "query" for k, _ in params) and not any(k == "update" for k, _ in params):
        accept = request.headers.get("accept", "")
        if "text/html" in accept and request.query_params.get("format") is None:
            return RedirectResponse(request.url_for("query_page"), status_code=303)
        return await service_description(request, backend, settings)
    return await _answer(request, params, backend, settings)


@router.post("/sparql", summary="SPARQL query (POST form or direct)")
async def sparql_post(request: Request) -> Response:
    backend, settings = request.app.state.backend, request.app.state.settings
    content_type = request.headers.get("content-type", "")
    media, _, rest = content_type.partition(";")
    media = media.strip().lower()
    charset = _charset(rest)
    if charset not in (None, "utf-8", "utf8"):
        return error(415, f"the request body must be UTF-8, not {charset}")
    body = await request.body()
    limit = getattr(settings, "max_query_bytes", MAX_QUERY_BYTES)
    if len(body) > limit:
        return error(413, f"the query is larger than {limit} bytes, the limit "
                          "(CITYDIP_MAX_QUERY_BYTES)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "the request body is not valid UTF-8")
    if media == FORM:
        params = parse_qsl(text, keep_blank_values=True)
        params += request.query_params.multi_items()
    elif media == DIRECT:
        if "query" in request.query_params:
            return error(400, "send the query either in the body or as a parameter, not both")
        params = [("query", text)] + request.query_params.multi_items()
    elif media == "application/sparql-update":
        return error(400, "this is the read-only query endpoint; updates are not accepted here")
    else:
        return error(415, f"POST a query as {FORM} or {DIRECT}, not {media or 'no type'}")
    return await _answer(request, params, backend, settings)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other() -> Response:
    response = error(405, "the SPARQL endpoint accepts GET and POST")
    response.headers["Allow"] = "GET, POST"
    return response


async def _answer(request: Request, params: list[tuple[str, str]], backend, settings) -> Response:
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in params):
        return error(400, "this is the read-only query endpoint; updates are not accepted here")
    queries = [v for k, v in params if k == "query"]
    if len(queries) != 1:
        return error(400, f"exactly one query parameter is needed, got {len(queries)}")
    query = queries[0]
    if not query.strip():
        return error(400, "the query is empty")
    vet = _refusal if len(query) <= CACHED_TEXT_CHARS else _refusal.__wrapped__
    refusal = vet(query, settings.max_nesting, tuple(settings.service_allowlist))
    if refusal is not None:
        return error(400, refusal)
    default = [v for k, v in params if k == "default-graph-uri"]
    named = [v for k, v in params if k == "named-graph-uri"]
    formats = [v for k, v in params if k == "format"]
    job = QueryJob(
        sparql=query,
        default_graph=tuple(default) if default else None,
        named_graphs=tuple(named) if named else None,
        accept=request.headers.get("accept"),
        format=formats[0] if formats else None,
        max_rows=settings.max_rows,
        base_iri=endpoint_url(request),
    )

    async def answer() -> Response:
        response = await run_query(backend, job)
        if response.status_code == 400 and is_update(query):
            return error(400, "this is the read-only query endpoint; updates are not accepted "
                              "here")
        return response

    reads = await kept_reads(request, query)
    if reads is None:
        return await answer()
    # kept until a write touches what it reads (server/kept_queries.py),
    # kept per base IRI too: relative IRIs resolve against the URL the client asked
    return await kept_or_made(request, f"answer {job.base_iri} "
                              f"{request.headers.get('accept', '')}", answer, reads=reads)


@functools.lru_cache(maxsize=1024)
def _refusal(query: str, max_nesting: int, allowed_hosts: tuple[str, ...]) -> str | None:
    """Why the query is refused before it reaches the store, or None (the same verdict each time
    a client sends the same text: kept for the usual short queries)."""
    try:
        # Before any parser: a recursive parser fed deep nesting fails or brings its process down.
        check_nesting(expand_escapes(query), max_nesting)
        check_query(query, allowed_hosts)
    except (UnsafeQuery, LimitExceeded) as exc:
        return str(exc)
    return None


_ENDPOINT_URLS: dict[tuple, str] = {}
"""The endpoint's URL by what it depends on (at most 256: the Host header is the client's)."""


def endpoint_url(request: Request) -> str:
    """The endpoint's own URL, as `request.url_for("sparql")` gives it, against which relative
    IRIs in a query are resolved. Kept per scheme, host and root path, all it depends on:
    url_for itself tries every route of the app in turn, a tenth of a lookup's time."""
    scope = request.scope
    server = scope.get("server")  # a list from some clients (the test client)
    key = (scope.get("scheme"), tuple(server) if server is not None else None,
           scope.get("app_root_path", scope.get("root_path", "")), request.headers.get("host"))
    url = _ENDPOINT_URLS.get(key)
    if url is None:
        if len(_ENDPOINT_URLS) >= 256:
            _ENDPOINT_URLS.clear()
        url = _ENDPOINT_URLS[key] = str(request.url_for("sparql"))
    return url


def _charset(parameters: str) -> str | None:
    for part in parameters.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"').lower()
    return None
