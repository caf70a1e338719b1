"""The SPARQL 1.1 Graph Store HTTP Protocol at /store (`?graph=IRI` or `?default`).

GET and HEAD are public and read through the query workers (so the row limit and the timeout
apply); PUT, POST and DELETE are writes like any other: token, validation, history. The default
graph is the union of the named graphs: it can be read and POSTed to (the triples go to the write
graph), but not replaced or deleted.
"""

from __future__ import annotations

from typing import Annotated, cast

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response

from graph.sparql.limits import Bounds
from graph.store.execution import QueryJob
from graph.write.changes import ChangeError
from graph.write.payload import parse_rdf, rdf_format
from server.deps import BackendDep, SettingsDep
from server.responses import Refusal, run_query
from server.writing import WriteBody, WriterName, commit

router = APIRouter(tags=["editing"])
GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"
UNION_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
EXISTS_QUERY = "ASK { GRAPH ?graph { ?s ?p ?o } }"


async def graph_target(request: Request) -> str | None:
    """The graph IRI of `?graph=`, or None for `?default`; refused with 400 otherwise."""
    graphs = request.query_params.getlist("graph")
    default = "default" in request.query_params
    if default == bool(graphs) or len(graphs) > 1:
        raise Refusal(400, "name one graph: ?graph=<IRI>, or ?default for the default graph")
    if default:
        return None
    try:
        ox.NamedNode(graphs[0])
    except ValueError as exc:
        raise Refusal(400, f"graph is not an IRI: {exc}") from None
    return graphs[0]


Target = Annotated[str | None, Depends(graph_target)]


@router.api_route("/store", methods=["GET", "HEAD"], name="graph_store",
                  summary="Graph Store Protocol: read a named graph, or the default graph")
async def read_graph(request: Request, target: Target, backend: BackendDep,
                     settings: SettingsDep) -> Response:
    if target is None:
        job = QueryJob(UNION_QUERY, accept=request.headers.get("accept"),
                       format=request.query_params.get("format"), max_rows=settings.max_rows)
    else:
        bindings: dict[str, ox.NamedNode | ox.Literal] = {"graph": ox.NamedNode(target)}
        exists = await backend.execute(QueryJob(EXISTS_QUERY, bindings, format="json"))
        if exists.status == 200 and b"false" in exists.body:
            raise Refusal(404, f"there is no graph <{target}>")
        job = QueryJob(GRAPH_QUERY, bindings, accept=request.headers.get("accept"),
                       format=request.query_params.get("format"), max_rows=settings.max_rows)
    response = await run_query(backend, job)
    if request.method == "HEAD":
        return Response(status_code=response.status_code, headers={
            k: v for k, v in response.headers.items() if k.lower() != "content-length"},
            media_type=response.media_type)
    return response


def _payload(request: Request, body: bytes, graph: str) -> list[ox.Quad]:
    try:
        fmt = rdf_format(request.headers.get("content-type"))
        quads = parse_rdf(body, fmt, ox.NamedNode(graph), base_iri=graph,
                          bounds=Bounds.of(request.app.state.settings))
    except ChangeError as exc:
        raise Refusal(exc.status, str(exc)) from None
    # parse_rdf puts default-graph triples in `graph`: every quad is in a named graph
    stray = sorted({cast(ox.NamedNode, q.graph_name).value for q in quads
                    if cast(ox.NamedNode, q.graph_name).value != graph})
    if stray:
        raise Refusal(400, f"the payload names other graphs ({', '.join(stray[:3])}); a Graph "
                           f"Store request writes only <{graph}>")
    return quads


@router.put("/store", summary="Graph Store Protocol: replace a named graph (validated)")
async def put_graph(request: Request, who: WriterName, target: Target,
                    body: WriteBody) -> Response:
    if target is None:
        raise Refusal(403, "the default graph is the union of every graph and cannot be "
                           "replaced; PUT a named graph (?graph=IRI)")
    quads = _payload(request, body, target)
    message = request.query_params.get("message") or f"Replace graph <{target}>"
    return await commit(request, lambda w: w.put_graph(target, quads, who, message),
                        created=lambda w: not w.has_graph(target))


@router.post("/store", summary="Graph Store Protocol: add triples to a graph (validated)")
async def post_graph(request: Request, who: WriterName, target: Target, body: WriteBody,
                     settings: SettingsDep) -> Response:
    graph = target if target is not None else settings.write_graph
    quads = _payload(request, body, graph)
    message = request.query_params.get("message") or f"Add to graph <{graph}>"
    return await commit(request, lambda w: w.post_graph(graph, quads, who, message),
                        created=lambda w: not w.has_graph(graph))


@router.delete("/store", summary="Graph Store Protocol: delete a named graph (validated)")
async def delete_graph(request: Request, who: WriterName, target: Target) -> Response:
    if target is None:
        raise Refusal(403, "the default graph is the union of every graph and cannot be "
                           "deleted; DELETE a named graph (?graph=IRI)")
    message = request.query_params.get("message") or f"Delete graph <{target}>"
    return await commit(request, lambda w: w.delete_graph(target, who, message))
