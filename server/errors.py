"""One error contract for every route: the client's mistakes are 4xx, ours are 500 with an id.

Routes answer what they refuse themselves (`server.responses.error`, `Refusal`). What is left is
what nobody expected, and it is caught here, as an ASGI middleware around the whole application
rather than as a FastAPI exception handler: Starlette re-raises an exception after its handler for
`Exception` has answered, so uvicorn would log a second, unnumbered traceback, and a handler
cannot see errors raised while a response is being streamed. Here the client gets a plain-text
500 that names an id and never a stack trace; the log gets the same id with the traceback, so an
operator can find the one from the other.

Two kinds of exception are the client's doing even when they surface unexpectedly: a recursion
too deep for a parser and a request the process has no memory for. They get 400 and 413 with a
hint at the limits (graph.sparql.limits checks them before any parser; this is the net behind it).

The exceptions a route raises on purpose, and the answer each becomes, are one table here
(`HANDLERS`), which the app installs as FastAPI exception handlers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.store.execution import Overloaded
from server.admission import overloaded
from server.responses import Refusal, refused

log = logging.getLogger("uvicorn.error")
"""The server's log (uvicorn's error log, where its own tracebacks go)."""

HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    Refusal: refused,  # a refusal raised from a dependency: its status, message and headers
    Overloaded: overloaded,  # too many queries wait for a worker: 503 with Retry-After
}
"""Exceptions raised on purpose and the answer each becomes; anything else is ErrorContract's."""


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> list[Message]:
    body = (text.rstrip() + "\n").encode("utf-8")
    raw = [(b"content-type", b"text/plain; charset=utf-8"),
           (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return [{"type": "http.response.start", "status": status, "headers": raw},
            {"type": "http.response.body", "body": body}]


class ErrorContract:
    """Catch what escapes the routes: 400/413 for resource exhaustion, 500 with an id otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            await send(message)  # a header the server cannot send raises here: not started
            if message["type"] == "http.response.start":
                started = True

        try:
            await self.app(scope, receive, watched)
        except RecursionError:
            log.warning("%s %s: input nested too deeply for a parser", scope.get("method"),
                        scope.get("path"))
            if not started:
                for message in _plain(400, "the request nests too deeply to be read; write it "
                                           "with fewer nested groups, brackets or objects "
                                           "(CITYDIP_MAX_NESTING)"):
                    await send(message)
        except MemoryError:
            log.warning("%s %s: out of memory", scope.get("method"), scope.get("path"))
            if not started:
                for message in _plain(413, "the request needs more memory than the server "
                                           "has for it; send it in smaller parts "
                                           "(CITYDIP_REQUEST_MEMORY_MB)"):
                    await send(message)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("error %s: unexpected exception answering %s %s", error_id,
                          scope.get("method"), scope.get("path"))
            if not started:
                for message in _plain(500, f"internal error {error_id}: the server failed to "
                                           "answer this request; it is logged under this id, "
                                           "quote it when you report the problem",
                                      {"X-Error-Id": error_id}):
                    await send(message)
