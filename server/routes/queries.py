"""The named-query catalogue: list it, and run a query with typed parameters."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from graph.execution import QueryJob
from graph.queries import ParamError, QueryError, catalogue, get_query
from server.deps import BackendDep, SettingsDep
from server.responses import error, run_query

router = APIRouter(tags=["named queries"])
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
    values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in RESERVED:
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
    job = QueryJob(query.text, bindings, accept=request.headers.get("accept"),
                   format=request.query_params.get("format"), max_rows=settings.max_rows)
    return await run_query(backend, job)
