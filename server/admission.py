"""Admission control, as public SPARQL endpoints do it: per-client limits, a bounded queue.

Why this way: the Wikidata Query Service gives each client a number of parallel queries and a
budget of query time per minute, and answers 429 with Retry-After beyond them; that keeps one
client's burst from starving everybody else, and tells a well-behaved client when to come back.
Here:

- a client is the address of the connection, or the name of the write token it presents;
- a request is admitted when it starts its first query (a page that runs three queries is one
  request); beyond `CITYDIP_CLIENT_MAX_PARALLEL` running requests the client gets 429 and
  `Retry-After: 1`. Queries of the cheap lane (graph.store.lanes) are not held to the parallel
  limit:
  they take no worker, and are what keeps pages and lookups moving during a burst;
- every query's time is charged to its client when it ends; a client that used
  `CITYDIP_CLIENT_QUERY_SECONDS` within the last `CITYDIP_CLIENT_WINDOW_SECONDS` gets 429 and a
  Retry-After saying when enough of it will have left the window;
- at most `CITYDIP_QUEUE_MAX` queries wait for a query worker (graph.store.execution); one more
gets 503
  and a Retry-After at once, rather than a connection held open until a proxy gives up.

The middleware only marks each HTTP request with its client (a context variable); the limits are
checked where a query is about to run (`Backend.admission`), so the server's own work outside
requests (start-up, background recomputations started by a request keep its client) is never
refused by it. The state is bounded: clients with nothing running and nothing spent in the window
are forgotten.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass, field

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.core.settings import Settings
from graph.store.execution import Overloaded
from graph.write.auth import WriteTokens, bearer_token
from server.responses import Refusal, error

MAX_CLIENTS = 100_000
"""Clients remembered at most; past it, the idle ones are swept at each admission."""


@dataclass
class Ticket:
    """One HTTP request: who sent it, and whether it holds one of its client's parallel slots."""

    client: str
    admitted: bool = False


@dataclass
class _Client:
    running: int = 0
    spent: deque[tuple[float, float]] = field(default_factory=deque)
    """(when a query ended, its seconds), oldest first."""
    total: float = 0.0
    """The sum of `spent`."""

    def forget_before(self, horizon: float) -> None:
        while self.spent and self.spent[0][0] < horizon:
            self.total -= self.spent.popleft()[1]
        if not self.spent:
            self.total = 0.0


_ticket: ContextVar[Ticket | None] = ContextVar("citydip_admission_ticket", default=None)


def servers_own() -> Context:
    """A context for the server's own work started while answering a request (a derived view
    computed for everyone): its queries are not charged to that request's client."""
    context = copy_context()
    context.run(_ticket.set, None)
    return context


class Admission:
    """The limits of one server, and what each client uses of them."""

    def __init__(self, settings: Settings, tokens: WriteTokens) -> None:
        self.max_parallel = settings.client_max_parallel
        self.budget = settings.client_query_seconds
        self.window = settings.client_window_seconds
        self.tokens = tokens
        self.clients: dict[str, _Client] = {}
        self.refused = {"parallel": 0, "budget": 0}

    def client_of(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                who = self.tokens.identify(bearer_token(value.decode("latin-1")))
                if who is not None:
                    return f"token:{who}"
        address = scope.get("client")
        return f"address:{address[0]}" if address else "address:unknown"

    @asynccontextmanager
    async def gate(self, lane: str) -> AsyncIterator[None]:
        """Entered around each query (Backend.admission): refuse, or run and charge it."""
        ticket = _ticket.get()
        if ticket is None:
            yield
            return
        now = time.monotonic()
        state = self.clients.get(ticket.client)
        if state is None:
            if len(self.clients) >= MAX_CLIENTS:
                self._sweep(now)
            state = self.clients[ticket.client] = _Client()
        self._check_budget(state, now)
        if lane != "cheap" and not ticket.admitted:
            if self.max_parallel and state.running >= self.max_parallel:
                self.refused["parallel"] += 1
                raise Refusal(429, f"this client has {state.running} queries running already, "
                                   f"the most allowed at once; retry when one has ended",
                              {"Retry-After": "1"})
            state.running += 1
            ticket.admitted = True
        try:
            yield
        finally:
            ended = time.monotonic()
            state.spent.append((ended, ended - now))
            state.total += ended - now

    def _check_budget(self, state: _Client, now: float) -> None:
        if not self.budget:
            return
        state.forget_before(now - self.window)
        if state.total < self.budget:
            return
        # When will enough of the spent time have left the window to be under budget again?
        over, wait = state.total - self.budget, self.window
        for ended, seconds in state.spent:
            over -= seconds
            if over < 0:
                wait = ended + self.window - now
                break
        self.refused["budget"] += 1
        raise Refusal(429, f"this client used {state.total:.0f} s of query time in the last "
                           f"{self.window:g} s, its budget is {self.budget:g} s",
                      {"Retry-After": str(max(1, math.ceil(wait)))})

    def release(self, ticket: Ticket) -> None:
        if ticket.admitted:
            ticket.admitted = False
            state = self.clients.get(ticket.client)
            if state is not None:
                state.running -= 1
                if state.running == 0 and not state.spent:
                    del self.clients[ticket.client]

    def _sweep(self, now: float) -> None:
        for client, state in list(self.clients.items()):
            state.forget_before(now - self.window)
            if state.running == 0 and not state.spent:
                del self.clients[client]


class AdmissionMiddleware:
    """Marks each HTTP request with its client, and frees its slot when the answer is sent."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ticket = Ticket(self.admission.client_of(scope))
        token = _ticket.set(ticket)
        try:
            await self.app(scope, receive, send)
        finally:
            _ticket.reset(token)
            self.admission.release(ticket)


async def overloaded(_request: Request, exc: Exception):
    """503 with Retry-After when the queue of queries waiting for a worker is full."""
    assert isinstance(exc, Overloaded)
    response = error(503, f"{exc}")
    response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response
