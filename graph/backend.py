"""The store behind the server: embedded (pyoxigraph + query workers) or remote (SPARQL endpoints).

Both offer the same three things: `store` (the synchronous store interface, for loading and
counts), `execute(job)` (a query run off the event loop with a timeout, serialized as negotiated)
and `select(...)` (rows for the server's own pages).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox

from graph.execution import Outcome, QueryJob, QueryTimeout, WorkerPool
from graph.formats import NotAcceptable, negotiate, serialize_result
from graph.load import build_store
from graph.remote import RESULTS_ACCEPT, RemoteError, RemoteStore, inline_bindings, parse_response
from graph.settings import Settings
from graph.store import Store

Progress = Callable[[Path, int, int], None]


class Backend:
    store: Store | RemoteStore
    settings: Settings

    async def start(self) -> None: ...

    async def execute(self, job: QueryJob) -> Outcome:
        raise NotImplementedError

    def close(self) -> None: ...

    async def select(self, sparql: str, bindings: dict | None = None) -> list[dict]:
        """Run a SELECT for the server's own pages: rows of pyoxigraph terms by variable name."""
        outcome = await self.execute(QueryJob(sparql, bindings or {}, format="json",
                                              max_rows=self.settings.max_rows))
        if outcome.status != 200:
            raise RuntimeError(outcome.message)
        solutions = ox.parse_query_results(outcome.body, format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names} for s in solutions]

    async def construct(self, sparql: str, bindings: dict | None = None) -> list[ox.Triple]:
        outcome = await self.execute(QueryJob(sparql, bindings or {}, format="nt",
                                              max_rows=self.settings.max_rows))
        if outcome.status != 200:
            raise RuntimeError(outcome.message)
        return list(ox.parse(outcome.body, format=ox.RdfFormat.N_TRIPLES))


class EmbeddedBackend(Backend):
    """A pyoxigraph store in this process (for loading and writes) and query worker processes."""

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        path = None if settings.in_memory else Path(settings.store_path)
        self.store = Store(path)
        if self.store.count() == 0:
            build_store(settings, store=self.store, progress=progress)
        self.store.flush()
        self.pool = WorkerPool(
            self.store.raw if path is None else None,
            None if path is None else str(path),
            settings.query_workers,
            settings.query_timeout,
        )

    async def start(self) -> None:
        await self.pool.start()

    async def execute(self, job: QueryJob) -> Outcome:
        return await self.pool.run(job)

    def close(self) -> None:
        self.pool.close()


class RemoteBackend(Backend):
    """Queries go to a remote SPARQL endpoint; answers are checked, cut and re-serialized here."""

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        if not settings.remote_query_url:
            raise ValueError("the remote backend needs CITYDIP_REMOTE_QUERY_URL")
        self.settings = settings
        self.store = RemoteStore(settings.remote_query_url, settings.remote_update_url)
        if self.store.count() == 0 and settings.remote_update_url:
            build_store(settings, store=self.store, progress=progress)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.settings.query_timeout)

    async def execute(self, job: QueryJob) -> Outcome:
        assert self._client is not None, "start() the backend first"
        params: list[tuple[str, str]] = [("query", inline_bindings(job.sparql, job.bindings))]
        params += [("default-graph-uri", g) for g in job.default_graph or ()]
        params += [("named-graph-uri", g) for g in job.named_graphs or ()]
        try:
            response = await self._client.post(self.settings.remote_query_url, data=params,
                                               headers={"Accept": RESULTS_ACCEPT})
        except httpx.TimeoutException:
            raise QueryTimeout(
                f"the query ran longer than {self.settings.query_timeout:g} s") from None
        except httpx.HTTPError as exc:
            return Outcome(502, message=f"the remote store cannot be reached: {exc}")
        if response.status_code == 400:
            return Outcome(400, message=response.text[:2000])
        if response.status_code != 200:
            return Outcome(502, message=f"the remote store answered HTTP {response.status_code}")
        try:
            result = parse_response(response.headers.get("content-type", ""), response.content)
        except RemoteError as exc:
            if exc.status == 503:
                raise QueryTimeout(str(exc)) from None
            return Outcome(502, message=str(exc))
        form = ("ASK" if isinstance(result, ox.QueryBoolean) else
                "SELECT" if isinstance(result, ox.QuerySolutions) else "CONSTRUCT")
        try:
            fmt = negotiate(job.accept, form, job.format)
        except NotAcceptable as exc:
            return Outcome(406, message=str(exc))
        out = serialize_result(result, fmt, job.max_rows)
        return Outcome(200, out.body, out.media_type, out.truncated)

    def close(self) -> None:
        if self._client is not None:
            try:
                asyncio.get_running_loop().create_task(self._client.aclose())
            except RuntimeError:
                pass


def open_backend(settings: Settings, progress: Progress | None = None) -> Backend:
    if settings.store_backend == "remote":
        return RemoteBackend(settings, progress)
    return EmbeddedBackend(settings, progress)
