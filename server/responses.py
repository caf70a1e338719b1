"""Turning query outcomes into HTTP responses, the same way for every route."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from graph.backend import Backend
from graph.store.execution import QueryJob, QueryTimeout


def error(status: int, message: str) -> PlainTextResponse:
    """A plain-text error a person or a client can read; never a stack trace."""
    return PlainTextResponse(message.rstrip() + "\n", status_code=status)


class Refusal(Exception):
    """A request refused before any work: raised by a dependency, answered by `refused`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


async def refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    response = error(exc.status, exc.message)
    response.headers.update(exc.headers)
    return response


async def run_query(backend: Backend, job: QueryJob) -> Response:
    try:
        outcome = await backend.execute(job)
    except QueryTimeout as exc:
        return error(503, f"{exc}. Narrow the query (add LIMIT, more specific patterns).")
    if outcome.status != 200:
        return error(outcome.status, outcome.message)
    headers = {"Vary": "Accept", "X-Max-Rows": str(job.max_rows)}
    if outcome.truncated:
        headers["X-Result-Truncated"] = "true"
    return Response(outcome.body, media_type=outcome.media_type, headers=headers)
