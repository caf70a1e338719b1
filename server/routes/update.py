"""The SPARQL 1.1 Update operation at /update (token-authenticated, validated before it lands)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from server.responses import error
from server.writing import WriteBody, WriterName, commit

router = APIRouter(tags=["editing"])
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-update"


@router.post("/update", name="update",
             summary="SPARQL 1.1 Update: validated against the shapes, committed atomically")
async def update(request: Request, who: WriterName, body: WriteBody) -> Response:
    """POST `update=` as a form, or the update itself as `application/sparql-update`.

    `using-graph-uri` / `using-named-graph-uri` set the WHERE clauses' dataset; `message` (form
    or query string) is recorded in the history. Answers 200 with the change number, 422 with the
    validation report (the store unchanged), 403 for LOAD, SERVICE or a protected graph.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "the request body is not valid UTF-8")
    query = request.query_params.multi_items()
    if media == FORM:
        params = parse_qsl(text, keep_blank_values=True) + query
        updates = [v for k, v in params if k == "update"]
        if len(updates) != 1:
            return error(400, f"exactly one update parameter is needed, got {len(updates)}")
        text = updates[0]
    elif media == DIRECT:
        params = query
        if any(k == "update" for k, _ in params):
            return error(400, "send the update either in the body or as a parameter, not both")
    else:
        return error(415, f"POST an update as {FORM} or {DIRECT}, not {media or 'no type'}")
    if any(k == "query" for k, _ in params):
        return error(400, "this is the update endpoint; send queries to /sparql")
    if not text.strip():
        return error(400, "the update is empty")
    using = [v for k, v in params if k == "using-graph-uri"] or None
    using_named = [v for k, v in params if k == "using-named-graph-uri"] or None
    message = next((v for k, v in params if k == "message"), "").strip() or "SPARQL Update"
    base = str(request.url_for("update"))
    return await commit(request, lambda writer: writer.apply_update(
        text, who, message, using, using_named, base))


@router.get("/update", include_in_schema=False)
async def update_get() -> Response:
    response = error(405, "updates are POSTed (SPARQL 1.1 Protocol); queries go to /sparql")
    response.headers["Allow"] = "POST"
    return response
