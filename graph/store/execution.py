"""Running queries without blocking the server, with a timeout that really stops them.

(One module over 400 lines on purpose: the worker's main loop, the pool that feeds it and the
socket protocol between them change together; split, each half would need the other to read.)

pyoxigraph has no query timeout and a Python thread cannot be killed, so the embedded store's
queries that may run long run in worker processes: an in-memory store is inherited by forking, an
on-disk store is read from snapshots (graph.store.snapshots), never from the directory the server
writes. A query that outlives its timeout is stopped by killing its worker, which is replaced in
the background.

Workers live long. A worker of an on-disk store is told with each job which snapshot to read, and
reopens only when that changed since its last job: a burst of commits costs each worker at most
one reopen (tens of milliseconds), not a new process (a second of imports) per commit. It keeps
its snapshot open while it runs, so a query that started before a commit finishes on the data it
started with. A forked worker of an in-memory store holds a copy of the data as of its fork, and
is forked anew before its first job after a change (a fork costs milliseconds).

A worker that dies mid-query (killed from outside, out of memory) costs the client nothing: the
read is retried once on another worker. Jobs wait for a free worker in a bounded queue; beyond
it, `Overloaded` is raised at once, for the server to answer 503 with Retry-After, and so it is
for a job that waited in the queue as long as its time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import signal
import socket
import struct
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import cast

import pyoxigraph as ox

from graph.sparql.formats import NotAcceptable, negotiate, serialize_result
from graph.sparql.text import bind_values, has_dataset_clause
from graph.store.embedded import open_read_only


@dataclass(frozen=True)
class QueryJob:
    """A query with everything needed to run and serialize it in another process."""

    sparql: str
    bindings: dict[str, ox.NamedNode | ox.Literal] = field(default_factory=dict)
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    accept: str | None = None
    format: str | None = None
    max_rows: int = 10_000
    base_iri: str | None = None
    """Against which relative IRIs in the query are resolved (the endpoint's own URL)."""
    timeout: float | None = None
    """Seconds it may run; None: the endpoint's CITYDIP_QUERY_TIMEOUT, or for a background job
    CITYDIP_DERIVED_QUERY_TIMEOUT (set by graph.backend): at 5M triples VoID's counts take
    longer than a visitor's query may."""
    background: bool = False
    """The server's own work for every reader (a derived view's count, a kept answer, the
    network's data): run by a worker of its own at a lower CPU priority (graph.backend), so that
    a visitor's query never waits for the derived views to catch up with the writes, nor shares
    the CPU with them while editors write; it may run CITYDIP_DERIVED_QUERY_TIMEOUT."""
    page: bool = False
    """An entity page's own query (queries/pages/), anchored on one resource and read through
    the engine's indexes: presumed quick, so the cheap lane takes its shape from its first run
    until a run proves it slow (graph.store.lanes)."""


@dataclass
class Outcome:
    """What a query produced: a serialized body, or an error with the HTTP status that fits."""

    status: int
    body: bytes = b""
    media_type: str = "text/plain; charset=utf-8"
    truncated: bool = False
    message: str = ""
    seconds: float = 0.0
    """How long the query ran (set by whoever ran it)."""
    cpu_seconds: float = 0.0
    """CPU time the query and its serialization used (its cost, whatever else the machine ran)."""
    lane: str = ""
    """Where it ran: "worker" (a killable worker process) or "cheap" (a thread, see
    graph.store.lanes)."""


class QueryTimeout(Exception):
    """The query ran past its time limit and was stopped."""


class Overloaded(Exception):
    """Too many queries wait for a worker already: come back after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def run_job(store: ox.Store, job: QueryJob, direct: bool = False) -> Outcome:
    """Execute a job against a pyoxigraph store: the same code in a worker or in process.

    `direct`: the query is known to be cheap; write a SELECT in one pass (see serialize_result).
    """
    kwargs: dict = {}
    if job.default_graph is None and job.named_graphs is None:
        # The union default graph, unless the query chooses its dataset with FROM (NAMED),
        # which pyoxigraph's union option would otherwise override.
        if not has_dataset_clause(job.sparql):
            kwargs["use_default_graph_as_union"] = True
    else:
        # A dataset given in the request is all of it (SPARQL 1.1 Protocol 2.1.4): without
        # named-graph-uri there are no named graphs, without default-graph-uri the default
        # graph is empty, as in the remote store.
        try:
            kwargs["default_graph"] = [_graph(g) for g in job.default_graph or ()]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
        except ValueError as exc:
            return Outcome(400, message=f"a default-graph-uri or named-graph-uri is not an IRI: "
                                        f"{exc}")
    if job.base_iri:
        kwargs["base_iri"] = job.base_iri
    sparql = bind_values(job.sparql, job.bindings)
    try:
        result = store.query(sparql, **kwargs)
    except SyntaxError as exc:
        return Outcome(400, message=f"query syntax error: {exc}")
    except (ValueError, RuntimeError) as exc:
        return Outcome(400, message=f"query cannot be run: {exc}")
    except OSError as exc:
        return Outcome(500, message=f"the store could not be read: {exc}")
    if isinstance(result, ox.QueryTriples):
        form = "CONSTRUCT"
    elif isinstance(result, ox.QueryBoolean):
        form = "ASK"
    else:
        form = "SELECT"
    try:
        fmt = negotiate(job.accept, form, job.format)
    except NotAcceptable as exc:
        return Outcome(406, message=str(exc))
    try:
        out = serialize_result(result, fmt, job.max_rows,
                               rerun=lambda: store.query(sparql, **kwargs), direct=direct)
    except (OSError, ValueError, RuntimeError) as exc:
        # Evaluation errors surface while iterating the results.
        return Outcome(400, message=f"query evaluation failed: {exc}")
    return Outcome(200, out.body, out.media_type, out.truncated)


def _graph(iri: str):
    return ox.DefaultGraph() if iri == "" else ox.NamedNode(iri)


# --- worker processes ------------------------------------------------------------------------
#
# Parent and worker talk over a socket pair: each message is a pickle behind an 8-byte length.
# The worker reads and writes blocking; the server reads through its event loop (sock_recv), so a
# large answer never blocks the loop and any event loop (asyncio's or uvloop) works alike.

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
STARTUP_SECONDS = 120
"""How long a new worker may take to import its modules and open its snapshot."""
_CHUNK = 1 << 16

_INHERITED: ox.Store | None = None
"""The in-memory store a forked worker inherits from its parent."""


def _send(sock: socket.socket, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) < _CHUNK:  # one write for a small message
        sock.sendall(_HEADER.pack(len(data)) + data)
    else:  # no copy of a large one
        sock.sendall(_HEADER.pack(len(data)))
        sock.sendall(data)


def _recv_exactly(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise EOFError("the other end closed the connection")
        got += n
    return buffer


def _recv(sock: socket.socket):
    (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    return pickle.loads(_recv_exactly(sock, size))


async def _recv_async(loop: asyncio.AbstractEventLoop, sock: socket.socket):
    first = await loop.sock_recv(sock, _CHUNK)
    while len(first) < _HEADER.size:
        more = await loop.sock_recv(sock, _CHUNK)
        if not more:
            raise EOFError("the query worker closed the connection")
        first += more
    (size,) = _HEADER.unpack_from(first)
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = len(first) - _HEADER.size
    view[:got] = first[_HEADER.size:]
    while got < size:
        n = await loop.sock_recv_into(sock, view[got:])
        if n == 0:
            raise EOFError("the query worker closed the connection")
        got += n
    return pickle.loads(buffer)


def _worker_main(sock: socket.socket, in_memory: bool, initial: str | None = None,
                 nice: int = 0) -> None:
    """Answer jobs until the parent closes the socket; each job names the snapshot to read.

    The worker says it is ready (its modules imported, its first snapshot open) before its first
    job, so that its start-up never counts against a query's time limit. `nice`: how much lower
    its CPU priority is than the server's.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if nice > 0:
        with contextlib.suppress(OSError):
            os.nice(nice)
    store = _INHERITED if in_memory else None
    opened: str | None = None
    sock.setblocking(True)
    if initial is not None:
        with contextlib.suppress(OSError, RuntimeError):
            store, opened = open_read_only(initial), initial
    _send(sock, "ready")
    while True:
        try:
            path, job = _recv(sock)
        except (EOFError, OSError):
            break
        if path is not None and path != opened:
            store = None  # close the old snapshot before opening the new one
            try:
                store = open_read_only(path)
                opened = path
            except (OSError, RuntimeError) as exc:
                opened = None
                _send(sock, Outcome(500, message=f"the store snapshot could not be opened: {exc}"))
                continue
        try:
            started = time.thread_time()
            # the parent names a snapshot with each on-disk job; in memory it is inherited
            outcome = run_job(cast(ox.Store, store), job)
            outcome.cpu_seconds = time.thread_time() - started
            _send(sock, outcome)
        except OSError:
            break
    os._exit(0)


@dataclass(eq=False)
class _Worker:
    process: mp.process.BaseProcess
    sock: socket.socket
    generation: int = 0
    """In memory: the data version the worker was forked on (see WorkerPool.invalidate)."""
    snapshot: object | None = None
    """On disk: the snapshot (graph.store.snapshots.Snapshot) the worker has open."""


_SPAWNING = threading.Lock()
"""Held while a worker is made (WorkerPool._spawn), by every pool of the process."""


class WorkerPool:
    """A fixed number of long-lived query worker processes, each running one query at a time.

    `store` is the in-memory store workers inherit by forking; `snapshots` (graph.store.snapshots)
    the checkpoints workers of an on-disk store read. `queue_max` jobs may wait for a worker
    (0: no bound).
    """

    def __init__(self, store: ox.Store | None, snapshots, size: int, timeout: float,
                 fork_lock: threading.RLock | None = None, queue_max: int = 0, nice: int = 0,
                 open_at_start: bool = True):
        self._store = store
        self.nice = nice
        """How much lower the workers' CPU priority is than the server's (0: the same)."""
        self.open_at_start = open_at_start
        """On disk: a new worker opens the newest snapshot before it is ready (False: with its
        first job; a worker that may stay idle long then keeps no old snapshot on disk)."""
        self.snapshots = snapshots
        self._size = max(1, size)
        self.timeout = timeout
        self.queue_max = queue_max
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self._ctx = cast("mp.context.ForkContext | mp.context.SpawnContext",
                         mp.get_context("fork" if snapshots is None else "spawn"))
        self._closed = False
        self.generation = 0
        self._fork_lock = fork_lock if snapshots is None else None
        """Held by the writer while it uses the store: a fork never copies a store mid-write."""
        self.waiting = 0
        """Jobs waiting for a free worker now."""
        self.reopens = 0
        """Times a worker was sent a job on another snapshot than its last (on disk)."""
        self.retries = 0
        """Reads retried on another worker after theirs died."""
        self._pending: set[asyncio.Future] = set()
        self._durations: list[float] = []

    def _spawn(self) -> _Worker:
        """Start a worker and wait until it is ready (blocking: call it off the event loop)."""
        global _INHERITED
        # One worker made at a time, from its socket pair to closing the child's end here: a
        # worker forked meanwhile would inherit another worker's end of its pair and keep it
        # open, and that worker's death would then never reach us as end of file.
        with _SPAWNING:
            parent, child = socket.socketpair()
            snapshot = self.snapshots.acquire_current() \
                if self.snapshots is not None and self.open_at_start else None
            if self.snapshots is None:
                _INHERITED = self._store
            process = self._ctx.Process(
                target=_worker_main, daemon=True,
                args=(child, self.snapshots is None, snapshot.path if snapshot else None,
                      self.nice))
            with self._fork_lock if self._fork_lock is not None else nullcontext():
                process.start()
            child.close()
        worker = _Worker(process, parent, self.generation, snapshot)
        self._workers.append(worker)
        parent.settimeout(STARTUP_SECONDS)
        try:
            if _recv(parent) != "ready":
                raise EOFError("the query worker did not start")
        except (EOFError, OSError):
            self._retire(worker)
            raise
        parent.setblocking(False)
        return worker

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        loop = asyncio.get_running_loop()
        for worker in await asyncio.gather(*(loop.run_in_executor(None, self._spawn)
                                             for _ in range(self._size))):
            self._idle.put_nowait(worker)

    def pids(self) -> list[int]:
        # a started process has a pid
        return [cast(int, w.process.pid) for w in self._workers if w.process.is_alive()]

    def retry_after(self) -> float:
        """A guess of when a queued job would get a worker: the queue times the typical job."""
        recent = sorted(self._durations[-50:]) or [1.0]
        typical = recent[len(recent) // 2]
        return max(1.0, (self.waiting + 1) * typical / self._size)

    async def run(self, job: QueryJob, version: int | None = None) -> Outcome:
        """Run a job on a free worker, on data of at least `version` (on disk).

        Raises QueryTimeout (after stopping the query) when too slow, Overloaded when the queue is
        full. A job whose worker died is run once more on another worker: queries only read.
        """
        assert self._idle is not None, "start() the pool first"
        deadline: list[float] = []  # set when the first attempt gets its worker
        for attempt in (1, 2):
            outcome = await self._attempt(job, version, deadline)
            if outcome is not None:
                return outcome
            if attempt == 1:
                self.retries += 1
        return Outcome(500, message="the query worker stopped unexpectedly, twice; try again")

    async def _take(self, wait: float) -> _Worker:
        """A free worker, waited for at most `wait` seconds (the job's own time limit): a query
        queued behind a burst of runaways is answered 503 within its time limit rather than
        after theirs (sixteen runaways on two workers with a 5 s limit: the last one's 503 came
        after 48 s, docs/benchmarks.md "Stop 28")."""
        assert self._idle is not None
        if self._idle.empty() and self.queue_max and self.waiting >= self.queue_max:
            raise Overloaded(f"{self.waiting} queries wait for a query worker already; try again "
                             "later", self.retry_after())
        self.waiting += 1
        try:
            async with asyncio.timeout(wait):
                worker = await self._idle.get()
                while not worker.process.is_alive():  # died while idle: not this job's attempt
                    self._replace(worker)
                    worker = await self._idle.get()
        except TimeoutError:
            raise Overloaded(f"waited {wait:g} s for a query worker, as long as a query may run; "
                             "try again later", self.retry_after()) from None
        finally:
            self.waiting -= 1
        if self.snapshots is None and worker.generation != self.generation:
            renewal = asyncio.get_running_loop().run_in_executor(None, self._renew, worker)
            try:
                worker = await asyncio.shield(renewal)
            except asyncio.CancelledError:
                # The renewal goes on in its thread; its worker joins the pool when it is ready.
                renewal.add_done_callback(self._give_back)
                raise
        return worker

    async def _attempt(self, job: QueryJob, version: int | None,
                       deadline: list[float]) -> Outcome | None:
        """One try on one worker; None when the worker died under the job."""
        snapshot = None
        if self.snapshots is not None:
            snapshot = await self.snapshots.wait_for(version or 0)
        limit = self.timeout if job.timeout is None else job.timeout
        worker = await self._take(limit)
        old = worker.snapshot
        if snapshot is not None:
            # The newest (never older than the one waited for), held until the worker leaves it.
            snapshot = self.snapshots.acquire_current()
            if snapshot != old:
                worker.snapshot = snapshot
                self.reopens += 1
            else:
                self.snapshots.release(snapshot)  # the worker holds it already
        started = time.perf_counter()
        try:
            if not deadline:  # the time limit counts from the start of the query, not the queue
                deadline.append(asyncio.get_running_loop().time() + limit)
            async with asyncio.timeout_at(deadline[0]):
                outcome = await self._roundtrip(worker, snapshot, job)
        except TimeoutError:
            self._replace(worker)
            setting = "CITYDIP_QUERY_TIMEOUT" if job.timeout is None else \
                "CITYDIP_DERIVED_QUERY_TIMEOUT"
            raise QueryTimeout(f"the query ran longer than {limit:g} s, its time limit "
                               f"({setting}), and was stopped") from None
        except (EOFError, OSError):
            self._replace(worker)
            return None
        except asyncio.CancelledError:
            # The caller gave up while the worker still runs the job: its answer would be read
            # as the answer to the next job sent to it. Stop it and start a fresh one.
            self._replace(worker)
            raise
        finally:
            if old is not None and old != worker.snapshot:
                self.snapshots.release(old)
        outcome.seconds = time.perf_counter() - started
        outcome.lane = "worker"
        self._durations = self._durations[-99:] + [outcome.seconds]
        if not self._closed:
            assert self._idle is not None  # the worker was taken from it
            self._idle.put_nowait(worker)
        return outcome

    async def _roundtrip(self, worker: _Worker, snapshot, job: QueryJob) -> Outcome:
        loop = asyncio.get_running_loop()
        path = snapshot.path if snapshot is not None else None
        data = pickle.dumps((path, job), protocol=pickle.HIGHEST_PROTOCOL)
        await loop.sock_sendall(worker.sock, _HEADER.pack(len(data)) + data)
        return await _recv_async(loop, worker.sock)

    def _replace(self, worker: _Worker) -> None:
        """Stop a worker now; its successor joins the pool when it has started (off the loop)."""
        self._retire(worker)
        self._respawn()

    def _retire(self, worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError, ValueError):
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.sock.close()
        if worker in self._workers:
            self._workers.remove(worker)
        if worker.snapshot is not None and self.snapshots is not None:
            self.snapshots.release(worker.snapshot)
            worker.snapshot = None

    def invalidate(self) -> None:
        """The data changed. In memory, each worker is forked anew before its next query (its
        copy is old); on disk, the next job names the newer snapshot and the worker reopens."""
        self.generation += 1

    def _give_back(self, renewal: asyncio.Future) -> None:
        if renewal.cancelled() or renewal.exception() is not None:
            # A worker that failed to start: try again shortly, so the pool never shrinks (and
            # no job waits for a worker that will never come).
            if not self._closed:
                log.error("a query worker failed to start: %s; starting another",
                          None if renewal.cancelled() else renewal.exception())
                asyncio.get_running_loop().call_later(1.0, self._respawn)
            return
        if self._closed:
            self._retire(renewal.result())
            return
        assert self._idle is not None
        self._idle.put_nowait(renewal.result())

    def _respawn(self) -> None:
        if self._closed:
            return
        spawning = asyncio.get_running_loop().run_in_executor(None, self._spawn)
        self._pending.add(spawning)
        spawning.add_done_callback(self._pending.discard)
        spawning.add_done_callback(self._give_back)

    def _renew(self, worker: _Worker) -> _Worker:
        self._retire(worker)
        return self._spawn()

    async def recycle(self) -> None:
        """Replace every worker, waiting for running queries."""
        assert self._idle is not None
        for _ in range(self._size):
            old = await self._idle.get()
            self._retire(old)
            self._idle.put_nowait(self._spawn())

    def close(self) -> None:
        self._closed = True
        for worker in list(self._workers):
            self._retire(worker)
