"""The store behind the server: embedded (pyoxigraph + query workers) or remote (SPARQL endpoints).

Both offer the same things: `store` (the synchronous store interface, for loading and counts),
`execute(job)` (a query run off the event loop with a timeout, serialized as negotiated),
`select(...)` (rows for the server's own pages), and `data_version` with `on_commit(callback)`:
a number that grows with each committed write, and the callbacks told of it (derived views).

The embedded store (see docs/architecture.md): the server process owns the only read-write
store. Queries known to be quick run in a thread on it (graph.store.lanes); the others run in
long-lived worker processes that read snapshots made after commits, as workers need them
(graph.store.snapshots, graph.store.execution).
Every query passes `admission` first, when the server installs one (server.admission).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pyoxigraph as ox

from graph.core.settings import Settings
from graph.sparql.formats import NotAcceptable, negotiate, select_rows, serialize_result
from graph.sparql.text import bind_values, has_dataset_clause, query_form
from graph.store.embedded import Store
from graph.store.execution import Outcome, QueryJob, QueryTimeout, WorkerPool
from graph.store.labels import LabelIndex, open_index
from graph.store.lanes import CheapLane
from graph.store.load import build_store, prepare_store_folder, sync_datasets
from graph.store.protocol import QuadStore
from graph.store.remote import (
    EMPTY_GRAPH,
    RemoteError,
    RemoteStore,
    Stopped,
    Truncated,
    check_answer,
    normalize_answer,
    parse_response,
    query_request,
)
from graph.store.remote_guard import vet_query
from graph.store.snapshots import Snapshots

Progress = Callable[[Path, int, int], None]
MAX_ANSWER_BYTES = 64 * 2**20
"""Most of a remote answer read; what streams beyond is left unread (the connection is closed)."""
ROW_BYTES = 16 * 2**10
"""Bytes allowed per row of max_rows before a remote answer is cut (at least 1 MiB in all)."""


class Backend:
    store: Store | RemoteStore
    settings: Settings
    writer = None
    """The write path (graph.write.writer.Writer); None when the store cannot be written."""
    labels: LabelIndex | None = None
    """The label index behind search and browse (graph.store.labels.LabelIndex)."""
    data_version: int = 0
    """Grows by one with each committed write (this process's writes)."""
    changes_known: bool = True
    """Whether every change to the data is a write of this process (so what it changed is
    known here); False for a remote store, which may be written from elsewhere."""
    admission: Callable[[str], contextlib.AbstractAsyncContextManager] | None = None
    """Entered around every query with its lane ("cheap" or "worker"): the server's admission
    control (server.admission)."""

    async def start(self) -> None: ...

    def on_commit(self, callback: Callable[[int], None]) -> None:
        """Call `callback(data_version)` (on the event loop) after each committed write."""
        self.__dict__.setdefault("_hooks", []).append(callback)

    def changed(self) -> int:
        """The data changed (a write was committed): later queries must see it.

        Returns the new data version, after telling the `on_commit` callbacks.
        """
        self.data_version += 1
        self._moved_on()
        for callback in self.__dict__.get("_hooks", []):
            callback(self.data_version)
        return self.data_version

    def _moved_on(self) -> None:
        """What the backend itself does when the data changed."""

    async def execute(self, job: QueryJob) -> Outcome:
        """Run a query (after admission, if the server installed one). A background job
        (a derived view's) may run CITYDIP_DERIVED_QUERY_TIMEOUT unless it names its own."""
        if job.background and job.timeout is None:
            job = replace(job, timeout=self.settings.derived_query_timeout)
        lane = self._lane(job)
        if self.admission is None:
            return await self._execute(job, lane)
        async with self.admission(lane):
            return await self._execute(job, lane)

    def _lane(self, job: QueryJob) -> str:
        return "worker"

    async def _execute(self, job: QueryJob, lane: str) -> Outcome:
        raise NotImplementedError

    def close(self) -> None: ...

    async def select(self, sparql: str, bindings: dict | None = None, *,
                     background: bool = False, page: bool = False,
                     max_rows: int | None = None) -> list[dict]:
        """Run a SELECT for the server's own pages: rows of pyoxigraph terms by variable name.

        `background`: a derived view's query (QueryJob.background); `page`: an entity page's
        own query, presumed quick (QueryJob.page); `max_rows`: rows read at most (default
        CITYDIP_MAX_ROWS; a page's lists read together may each have as many)."""
        outcome = await self.execute(QueryJob(sparql, bindings or {}, format="json",
                                              max_rows=max_rows or self.settings.max_rows,
                                              background=background, page=page))
        if outcome.status != 200:
            raise RuntimeError(outcome.message)
        return select_rows(outcome.body)

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
        prepare_store_folder(settings)  # an interrupted fill is emptied, to be filled again
        self.store = Store(path)
        if self.store.count() == 0:
            build_store(settings, store=self.store, progress=progress)
        else:  # a store filled before: add or drop imported pair lists as CITYDIP_DATASETS says
            sync_datasets(self.store, settings, progress)
        self.writer = _open_writer(self.store, settings)
        self.labels = open_index(self.store, settings, self.writer)
        self.store.flush()
        self.snapshots = None
        if path is not None:
            self.snapshots = Snapshots(self.store, path.with_name(path.name + ".snapshots"))
            self.snapshots.make(self.data_version)
        self.pool = WorkerPool(
            self.store.raw if path is None else None,
            self.snapshots,
            settings.query_workers,
            settings.query_timeout,
            fork_lock=self.store.lock,
            queue_max=settings.queue_max,
            nice=settings.query_worker_nice,
        )
        # The derived views' queries (QueryJob.background) have a worker of their own, at a lower
        # CPU priority: while editors write, their recomputations took the visitors' workers and
        # most of a core from the server.
        self.background = WorkerPool(
            self.store.raw if path is None else None, self.snapshots, 1,
            settings.query_timeout, fork_lock=self.store.lock, nice=settings.background_nice,
            open_at_start=False)
        self.lane = CheapLane(self.store.raw, settings.cheap_lane_threads,
                              settings.cheap_query_seconds,
                              lock=self.store.lock if path is None else None,
                              inline_seconds=settings.inline_query_seconds, live=self.store)

    async def start(self) -> None:
        await asyncio.gather(self.pool.start(), self.background.start())

    def _lane(self, job: QueryJob) -> str:
        return "cheap" if self.lane.takes(job) else "worker"

    async def _execute(self, job: QueryJob, lane: str) -> Outcome:
        if lane == "cheap":
            return await self.lane.run(job)
        pool = self.background if job.background else self.pool
        outcome = await pool.run(job, self.data_version)
        if outcome.status == 200:
            self.lane.record(job, outcome.cpu_seconds)
        return outcome

    async def run_on_worker(self, job: QueryJob) -> Outcome:
        """Run a job on a worker process whatever its history (tests, benchmarks)."""
        return await self.pool.run(job, self.data_version)

    def _moved_on(self) -> None:
        self.pool.invalidate()
        self.background.invalidate()
        if self.snapshots is not None:
            self.snapshots.committed(self.data_version)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.pool.close()
        self.background.close()
        self.lane.close()
        if self.snapshots is not None:
            self.snapshots.close()


class RemoteBackend(Backend):
    """Queries go to a remote SPARQL endpoint; answers are checked, cut and re-serialized here."""

    store: RemoteStore
    changes_known = False

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        if not settings.remote_query_url:
            raise ValueError("the remote backend needs CITYDIP_REMOTE_QUERY_URL")
        self.settings = settings
        self.store = RemoteStore.from_settings(settings)
        self.store.check_engine()
        if self.store.count() == 0 and settings.remote_update_url:
            # RemoteStore offers the Store methods a fill uses; it is not a Store subclass
            build_store(settings, store=self.store,  # type: ignore[arg-type]
                        progress=progress)
        if settings.remote_update_url:
            self.writer = _open_writer(self.store, settings)
        self.labels = open_index(self.store, settings, self.writer)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.settings.query_timeout)

    async def _execute(self, job: QueryJob, lane: str) -> Outcome:
        """Send the query, read at most MAX_ANSWER_BYTES of the answer, all within the timeout.

        The deadline covers the whole exchange (an answer that keeps streaming never hits a
        read timeout); leaving it closes the connection, which stops the query remotely.
        """
        assert self._client is not None, "start() the backend first"
        assert self.settings.remote_query_url is not None  # checked in __init__
        text = bind_values(job.sparql, job.bindings)
        refusal = await asyncio.to_thread(vet_query, text, job.base_iri)
        if refusal:
            return Outcome(400, message=refusal)
        if job.base_iri:  # relative IRIs resolve against our endpoint, not the store's
            # The base comes from the request's Host: what is sent is vetted again as a whole.
            text = f"BASE <{job.base_iri}>\n{text}"
            if await asyncio.to_thread(vet_query, text):
                return Outcome(400, message="the request's URL is not a valid base IRI")
        params: list[tuple[str, str]] = [("query", text)]
        if job.default_graph is not None or job.named_graphs is not None:
            if self.store.engine == "virtuoso" and has_dataset_clause(job.sparql):
                return Outcome(400, message="this store cannot let a request's default-graph-uri"
                               " or named-graph-uri override the query's own FROM: use one or "
                               "the other")
            # A dataset in the request is all of it; an engine that widens a missing half to
            # every graph (Virtuoso) is given an empty graph for it instead.
            params += [("default-graph-uri", g) for g in job.default_graph or (EMPTY_GRAPH,)]
            params += [("named-graph-uri", g) for g in job.named_graphs or (EMPTY_GRAPH,)]
        timeout = self.settings.query_timeout if job.timeout is None else job.timeout
        try:
            async with asyncio.timeout(timeout):
                for attempt in (1, 2):
                    try:
                        async with self._client.stream("POST", self.settings.remote_query_url,
                                                       timeout=timeout,
                                                       **query_request(params)) as response:
                            body, complete = await _read(response, _answer_limit(job.max_rows))
                        break
                    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                        # A kept-alive connection the store closed meanwhile (as it may after
                        # a query stopped by closing its connection): a query only reads, so
                        # it is sent once more, on a new connection, within the same deadline.
                        if attempt == 2:
                            raise
        except (TimeoutError, httpx.TimeoutException):
            raise QueryTimeout(f"the query ran longer than {timeout:g} s, its time limit "
                               "(CITYDIP_QUERY_TIMEOUT), and was stopped") from None
        except httpx.HTTPError as exc:
            return Outcome(502, message="the remote store cannot be reached: "
                           f"{exc or type(exc).__name__}")
        try:
            check_answer(response.status_code, response.headers, body)
        except Stopped as exc:
            raise QueryTimeout(str(exc)) from None
        if response.status_code == 400:
            return Outcome(400, message=body[:2000].decode("utf-8", "replace"))
        if response.status_code != 200:
            return Outcome(502, message=f"the remote store answered HTTP {response.status_code}")
        return await asyncio.to_thread(self._reserialize, job, response.headers, body, complete)

    def _reserialize(self, job: QueryJob, headers, body: bytes, complete: bool) -> Outcome:
        body = normalize_answer(headers, body, query_form(job.sparql), complete)
        try:
            result = parse_response(headers.get("content-type", ""), body, lazy=True)
            form = ("ASK" if isinstance(result, ox.QueryBoolean) else
                    "SELECT" if isinstance(result, ox.QuerySolutions) else "CONSTRUCT")
            fmt = negotiate(job.accept, form, job.format)
            out = serialize_result(result, fmt, job.max_rows, rerun=lambda: parse_response(
                headers.get("content-type", ""), body, lazy=True))
        except NotAcceptable as exc:
            return Outcome(406, message=str(exc))
        except (SyntaxError, Truncated) as exc:
            # Oxigraph's --timeout-s answers 200 and cuts the body off where the query stopped.
            if complete:
                raise QueryTimeout("the remote store stopped the query (its time limit) and cut "
                                   "its answer off") from exc
            return Outcome(502, message="the remote store's answer is larger than "
                                        f"{_answer_limit(job.max_rows)} bytes")
        except RemoteError as exc:
            return Outcome(502, message=str(exc))
        return Outcome(200, out.body, out.media_type, out.truncated)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self._client is not None:
            try:
                asyncio.get_running_loop().create_task(self._client.aclose())
            except RuntimeError:
                pass


def _open_writer(store: QuadStore, settings: Settings):
    """The write path over this store, after applying any logged change the store lacks."""
    from graph.write.writer import Writer

    writer = Writer(store, settings)
    writer.recover()
    writer.start()
    return writer


def open_backend(settings: Settings, progress: Progress | None = None) -> Backend:
    if settings.store_backend == "remote":
        return RemoteBackend(settings, progress)
    return EmbeddedBackend(settings, progress)


async def _read(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body up to `limit` bytes, and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
    return b"".join(chunks), True


def _answer_limit(max_rows: int) -> int:
    return min(MAX_ANSWER_BYTES, max(2**20, max_rows * ROW_BYTES))
