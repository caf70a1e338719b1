"""Changesets for editors at /changes: submit, list the history, show one, revert one."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from graph.sparql.limits import Bounds, LimitExceeded, check_json
from graph.write.changes import ChangeError
from graph.write.document import parse_document
from server.deps import BackendDep, SettingsDep
from server.responses import error
from server.writing import WriteBody, WriterName, commit

router = APIRouter(tags=["editing"])
MAX_LIST = 1000


def _history(backend):
    return backend.writer.history if backend.writer is not None else None


@router.post("/changes", summary="Submit a changeset: triples to add and remove, and a message")
async def submit(request: Request, who: WriterName, body: WriteBody,
                 settings: SettingsDep) -> Response:
    """A JSON body `{"message": …, "add": …, "remove": …}`: `add` and `remove` are Turtle text (or
    `format`: n-triples, trig, json-ld) or JSON-LD objects; `graph` says where added triples go
    (default: the write graph) and restricts removals to it (default: every graph holding them).
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/json", ""):
        return error(415, "POST a changeset as application/json")
    bounds = Bounds.of(settings)
    try:
        check_json(body, settings.max_nesting, "changeset")
        doc = parse_document(json.loads(body or b"null"), settings.write_graph, bounds)
    except LimitExceeded as exc:
        return error(exc.status, str(exc))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error(400, f"the changeset is not JSON: {exc}")
    except ChangeError as exc:
        return error(exc.status, str(exc))
    return await commit(request, lambda writer: writer.apply_document(doc, who))


@router.get("/changes", summary="The history of committed changes, newest first")
async def list_changes(backend: BackendDep, limit: int = 100, offset: int = 0) -> Response:
    history = _history(backend)
    entries = history.entries() if history is not None else []
    if limit < 1 or limit > MAX_LIST or offset < 0:
        return error(400, f"limit is 1 to {MAX_LIST}, offset 0 or more")
    page = list(reversed(entries))[offset:offset + limit]
    return JSONResponse([e.summary() for e in page],
                        headers={"X-Total-Count": str(len(entries))})


@router.get("/changes/{change_id}", name="show_change",
            summary="One change: who, when, why, and the exact quads added and removed")
async def show_change(change_id: int, backend: BackendDep) -> Response:
    history = _history(backend)
    entry = history.get(change_id) if history is not None else None
    if entry is None:
        return error(404, f"there is no change {change_id}")
    return JSONResponse(entry.to_dict())


@router.post("/changes/{change_id}/revert",
             summary="Undo one change (as a new change, validated like any other)")
async def revert(change_id: int, request: Request, who: WriterName,
                 body: WriteBody) -> Response:
    message = None
    if body.strip():
        try:
            check_json(body, request.app.state.settings.max_nesting, "body")
            doc = json.loads(body)
        except LimitExceeded as exc:
            return error(exc.status, str(exc))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"the body is not JSON: {exc}")
        if not isinstance(doc, dict) or not isinstance(doc.get("message", ""), str):
            return error(400, 'send {"message": "…"} or nothing')
        message = doc.get("message") or None
    return await commit(request, lambda writer: writer.revert(change_id, who, message))
