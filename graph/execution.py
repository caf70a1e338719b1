"""Running queries without blocking the server, with a timeout that really stops them.

pyoxigraph has no query timeout and a Python thread cannot be killed, so the embedded store's
queries run in worker processes: an in-memory store is inherited by forking, an on-disk store is
opened read-only by each worker. A query that outlives its timeout is stopped by killing its
worker, which is then replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import socket
import struct
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

import pyoxigraph as ox

from graph.formats import NotAcceptable, negotiate, serialize_result
from graph.sparql_text import bind_values, has_dataset_clause


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


@dataclass
class Outcome:
    """What a query produced: a serialized body, or an error with the HTTP status that fits."""

    status: int
    body: bytes = b""
    media_type: str = "text/plain; charset=utf-8"
    truncated: bool = False
    message: str = ""


class QueryTimeout(Exception):
    """The query ran past its time limit and was stopped."""


def run_job(store: ox.Store, job: QueryJob) -> Outcome:
    """Execute a job against a pyoxigraph store: the same code in a worker or in process."""
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
                               rerun=lambda: store.query(sparql, **kwargs))
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

_HEADER = struct.Struct("!Q")
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


def _worker_main(sock: socket.socket, path: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    store = _INHERITED if path is None else ox.Store.read_only(path)
    sock.setblocking(True)
    while True:
        try:
            job = _recv(sock)
        except (EOFError, OSError):
            break
        try:
            _send(sock, run_job(store, job))
        except OSError:
            break
    os._exit(0)


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    sock: socket.socket
    generation: int = 0
    """The data version the worker was started on (see WorkerPool.invalidate)."""


class WorkerPool:
    """A fixed number of query worker processes, each running one query at a time."""

    def __init__(self, store: ox.Store | None, path: str | None, size: int, timeout: float,
                 fork_lock: threading.RLock | None = None):
        self._store = store
        self._path = path
        self._size = max(1, size)
        self.timeout = timeout
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self._ctx = mp.get_context("fork" if path is None else "spawn")
        self._closed = False
        self.generation = 0
        self._fork_lock = fork_lock if path is None else None
        """Held by the writer while it uses the store: a fork never copies a store mid-write."""

    def _spawn(self) -> _Worker:
        global _INHERITED
        parent, child = socket.socketpair()
        if self._path is None:
            _INHERITED = self._store
        process = self._ctx.Process(target=_worker_main, args=(child, self._path), daemon=True)
        with self._fork_lock if self._fork_lock is not None else nullcontext():
            process.start()
        child.close()
        parent.setblocking(False)
        worker = _Worker(process, parent, self.generation)
        self._workers.append(worker)
        return worker

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        for _ in range(self._size):
            self._idle.put_nowait(self._spawn())

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.is_alive()]

    async def run(self, job: QueryJob) -> Outcome:
        """Run a job on an idle worker; raise QueryTimeout (after stopping it) when too slow."""
        assert self._idle is not None, "start() the pool first"
        worker = await self._idle.get()
        if worker.generation != self.generation:
            renewal = asyncio.get_running_loop().run_in_executor(None, self._renew, worker)
            try:
                worker = await asyncio.shield(renewal)
            except asyncio.CancelledError:
                # The renewal goes on in its thread; its worker joins the pool when it is ready.
                renewal.add_done_callback(self._give_back)
                raise
        try:
            async with asyncio.timeout(self.timeout):
                outcome = await self._roundtrip(worker, job)
        except TimeoutError:
            self._retire(worker)
            worker = await asyncio.get_running_loop().run_in_executor(None, self._spawn)
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s and was stopped") from None
        except (EOFError, OSError, BrokenPipeError):
            self._retire(worker)
            worker = await asyncio.get_running_loop().run_in_executor(None, self._spawn)
            return Outcome(500, message="the query worker stopped unexpectedly; try again")
        except asyncio.CancelledError:
            # The caller gave up while the worker still runs the job: its answer would be read
            # as the answer to the next job sent to it. Stop it and start a fresh one.
            self._retire(worker)
            if not self._closed:
                worker = self._spawn()
            raise
        finally:
            if not self._closed:
                self._idle.put_nowait(worker)
        return outcome

    async def _roundtrip(self, worker: _Worker, job: QueryJob) -> Outcome:
        loop = asyncio.get_running_loop()
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        await loop.sock_sendall(worker.sock, _HEADER.pack(len(data)) + data)
        return await _recv_async(loop, worker.sock)

    def _retire(self, worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError, ValueError):
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.sock.close()
        if worker in self._workers:
            self._workers.remove(worker)

    def invalidate(self) -> None:
        """The data changed: each worker is replaced before it runs its next query.

        Forked workers hold a copy of the store as it was when they were forked, and workers of
        an on-disk store a read-only view opened at their start, so neither sees later writes.
        """
        self.generation += 1

    def _give_back(self, renewal: asyncio.Future) -> None:
        if not renewal.cancelled() and renewal.exception() is None and not self._closed:
            assert self._idle is not None
            self._idle.put_nowait(renewal.result())

    def _renew(self, worker: _Worker) -> _Worker:
        self._retire(worker)
        return self._spawn()

    async def recycle(self) -> None:
        """Replace every worker (after the data changed), waiting for running queries."""
        assert self._idle is not None
        for _ in range(self._size):
            old = await self._idle.get()
            self._retire(old)
            self._idle.put_nowait(self._spawn())

    def close(self) -> None:
        self._closed = True
        for worker in list(self._workers):
            self._retire(worker)
