"""The cheap lane: queries known to be quick answered in a thread of the server process.

Why: a worker process is what makes a query killable, but it costs a round trip through a socket
and a pickle per query (about a millisecond more than Oxigraph's own server for a lookup), and
during a burst of long queries every worker is busy, so even `ASK {}` would wait behind them.
pyoxigraph releases the GIL while it evaluates, and the server process owns the read-write
store, so a query run here in a thread is defined behaviour and reads a consistent snapshot of
its own (RocksDB's, or the in-memory store's MVCC), even while a write commits.

A thread cannot be stopped, so only queries that are known to be quick go here: `ASK {}` and
the shapes whose measured history says so. A shape is the query text with its IRIs and string
literals blanked out, plus the names of its bound variables, so a named query, an entity page
or a lookup shares one history whatever resource it asks about; the rows of a VALUES block
count only by the power of two above their number, so that the details of one page of a list
(`VALUES` over its keys) do not make a shape per page length, each measured on the workers
first, where a query after a write waits for the new data to be opened. A shape runs on a
worker (and is timed there, in CPU seconds) until it has `history_min` runs in a row under
`cheap_seconds`; one run over that, in either lane, wipes its history and sends it back to the
workers, to be measured again (a shape whose cost depends on the resource, such as the partners
of a hub city, may go back and forth; a shape that is slow stays on the workers). The lane has
a fixed number of threads: at worst, that many misjudged queries run to their end while
everything else goes on.

An entity page's own queries (QueryJob.page: queries/pages/, each anchored on one resource and
read through the engine's indexes) are presumed quick: the lane takes their shape from its first
run. Measured on the workers first, the first pages after a start each cost a round trip and a
cold worker per query: the hub's page of the million-triple graph took 445 ms the first time
and 140 ms once its shapes were known. The same rule holds for them: a run over `cheap_seconds`
sends the shape to the workers, and it comes back once measured quick `history_min` times.

A thread costs a hand-off each way (a wake-up of the thread, then of the event loop), which on a
busy machine is most of a lookup's time in this lane. So a query that repeats one this lane
answered on the current data in under `inline_seconds` of CPU is answered on the event loop
itself. Repeats, not shapes: the same text with the same bindings, dataset and format on the same
data does the same work, so no other query can be passed off as it (a shape can: a join over rare
IRIs and the same join over common ones share one). A repeat runs inline only if no write landed
since it was measured (the store's write count) and none is being put into the store (it holds
the store's `committing` lock, without waiting for it). A writer still working out and validating
its change does not stop it: at six writes a second that took about half of the time. At worst
the loop stops for about `inline_seconds` per inline query, less than the Python of an HTML page
costs.
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import pyoxigraph as ox

from graph.store.embedded import Store
from graph.store.execution import Outcome, QueryJob, run_job

ALWAYS_CHEAP = {"ASK{}", "ASKWHERE{}"}
_TOKENS = re.compile("|".join((
    r"<[^<>\s]*>",  # IRIs
    r'"""(?:[^"\\]|\\.|"(?!""))*"""',  # long strings
    r"'''(?:[^'\\]|\\.|'(?!''))*'''",
    r'"(?:[^"\\\n]|\\.)*"',  # strings
    r"'(?:[^'\\\n]|\\.)*'",
)))
"""Constants blanked out of a shape (numbers are kept: LIMIT 10 and LIMIT 100000 differ)."""
_SPACE = re.compile(r"\s+")
HISTORY = 8
"""Runs remembered per shape."""
MAX_SHAPES = 10_000
"""Shapes remembered at most (the oldest forgotten first): the history is bounded in memory."""
MAX_REPEATS = 4096
"""Quick queries remembered for the inline path at most (the oldest forgotten first)."""
REPEAT_CHARS = 4000
"""Longer query texts are not remembered for the inline path (memory: at most 16 MB of text)."""


def repeat_key(job: QueryJob) -> tuple | None:
    """What makes two jobs the same work on the same data (None: too long to remember)."""
    if len(job.sparql) > REPEAT_CHARS:
        return None
    return (job.sparql, tuple(job.bindings.items()), job.default_graph, job.named_graphs,
            job.accept, job.format, job.max_rows, job.base_iri)


def shape(job: QueryJob) -> str:
    """What makes two queries cost alike: the text without its constants, the bound names."""
    parts = (job.sparql, tuple(sorted(job.bindings)), job.max_rows,
             job.default_graph is not None or job.named_graphs is not None)
    # A query is looked up, timed, then recorded: its shape is worked out once. The details of
    # a page's rows (a VALUES block of keys) are longer than a repeat, so the bound is wider.
    return _remembered_shape(*parts) if len(job.sparql) <= SHAPE_CHARS else _shape(*parts)


def _shape(text: str, bound: tuple[str, ...], max_rows: int, dataset: bool) -> str:
    parts = [_blank(text), ",".join(bound), str(max_rows)]
    if dataset:
        parts.append("dataset")
    return "\x1f".join(parts)


_ROWS = re.compile(r"(\([^()]*\))(?: \1)+")
"""A run of like rows of a VALUES block, once its constants are blanked: `(_) (_) (_)`."""


def _blank(text: str) -> str:
    return _ROWS.sub(_rows, _SPACE.sub(" ", _TOKENS.sub("_", text)).strip())


def _rows(run: re.Match) -> str:
    """A run of rows as one row and the power of two that bounds their number: the details of
    a page's rows (server.page_lists binds one page of keys) share one shape whatever page
    they show, a bound that grows with the rows tells a few from thousands."""
    rows = run.group(0).count("(")
    return f"{run.group(1)}x{1 << (rows - 1).bit_length()}"


SHAPE_CHARS = 32_000
"""Longer query texts have their shape worked out anew each time (memory: at most 32 MB)."""
_remembered_shape = functools.lru_cache(maxsize=1024)(_shape)


class CheapLane:
    """A few threads answering known-quick queries on the server's own store."""

    def __init__(self, store: ox.Store, threads: int, cheap_seconds: float,
                 history_min: int = 2, lock: threading.RLock | None = None,
                 inline_seconds: float = 0.0, live: Store | None = None) -> None:
        self.store = store
        self.cheap_seconds = cheap_seconds
        self.inline_seconds = inline_seconds
        self.history_min = history_min
        self.threads = max(0, threads)
        self._lock = lock
        """Held while a query runs here (in memory: no worker is forked mid-read)."""
        self._executor = ThreadPoolExecutor(max(1, self.threads), thread_name_prefix="cheap-lane")
        self._slots: asyncio.Semaphore | None = None
        self._history: dict[str, deque[float]] = {}
        self._slow: dict[str, None] = {}
        """Shapes whose last run took longer than cheap_seconds and that have not been measured
        quick since (a page's query is then no longer presumed quick)."""
        self.live = live
        """The store's owner (graph.store.embedded.Store): its write count and lock."""
        self._repeats: dict[tuple, int] = {}
        """Jobs answered in this lane in under inline_seconds, with the write count of the data
        they were answered on."""
        self.answered = 0
        """Queries answered in this lane so far."""
        self.inline = 0
        """Of them, answered on the event loop (repeats of quick ones)."""
        self.demoted = 0
        """Runs in this lane that took longer than cheap_seconds (their shape then left it)."""

    def takes(self, job: QueryJob) -> bool:
        if self.threads == 0:
            return False
        key = shape(job)
        if key.partition("\x1f")[0].replace(" ", "") in ALWAYS_CHEAP:
            return True
        runs = self._history.get(key)
        if runs is not None and len(runs) >= self.history_min:
            return True
        return job.page and key not in self._slow

    def record(self, job: QueryJob, seconds: float) -> None:
        """A run of this job's shape cost `seconds` of CPU time (in either lane).

        CPU time, not wall time: on a busy machine a quick query waits for a core, and would
        otherwise look slow and leave the lane just when the lane matters most.
        """
        key = shape(job)
        if seconds > self.cheap_seconds:
            self._history.pop(key, None)  # measured again on the workers before it comes back
            if len(self._slow) >= MAX_SHAPES:
                self._slow.pop(next(iter(self._slow)))
            self._slow[key] = None
            return
        runs = self._history.get(key)
        if runs is None:
            if len(self._history) >= MAX_SHAPES:
                self._history.pop(next(iter(self._history)))
            runs = self._history[key] = deque(maxlen=HISTORY)
        runs.append(seconds)
        if len(runs) >= self.history_min:
            self._slow.pop(key, None)

    async def run(self, job: QueryJob) -> Outcome:
        key = repeat_key(job) if self.live is not None and self.inline_seconds > 0 else None
        outcome = self._run_inline(job, key) if key in self._repeats else None
        if outcome is None:
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.threads)
            writes = self._writes()
            async with self._slots:
                outcome = await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                           self._run, job)
            if (key is not None and outcome.status == 200 and writes == self._writes()
                    and outcome.cpu_seconds <= self.inline_seconds):
                if len(self._repeats) >= MAX_REPEATS:
                    self._repeats.pop(next(iter(self._repeats)))
                self._repeats[key] = writes
        elif key is not None and (outcome.cpu_seconds > self.inline_seconds
                                  or outcome.status != 200):
            self._repeats.pop(key, None)
        self.answered += 1
        if outcome.cpu_seconds > self.cheap_seconds:
            self.demoted += 1
        self.record(job, outcome.cpu_seconds)
        return outcome

    def _writes(self) -> int:
        return self.live.writes if self.live is not None else 0

    def _run_inline(self, job: QueryJob, key: tuple | None) -> Outcome | None:
        """Run a known-quick repeat on the event loop, holding the store's `committing` lock so
        that no write lands meanwhile; None when a write is being put into the store (waiting
        for it would stop the loop) or has landed since the repeat was measured: the job then
        goes to a thread."""
        assert self.live is not None and key is not None
        # On disk, only a write being put into the store stops it (`committing`): the writer
        # works out and validates a write under `lock`, for tens of ms, without changing the
        # data. In memory, a run here takes `lock` itself (no worker is forked mid-read).
        lock = self.live.lock if self._lock is not None else self.live.committing
        if not lock.acquire(blocking=False):
            return None
        try:
            if self._repeats.get(key) != self.live.writes:
                del self._repeats[key]  # measured on older data
                return None
            outcome = self._run(job)
        finally:
            lock.release()
        self.inline += 1
        return outcome

    def _run(self, job: QueryJob) -> Outcome:
        started, cpu = time.perf_counter(), time.thread_time()
        with self._lock if self._lock is not None else nullcontext():
            outcome = run_job(self.store, job, direct=True)  # known cheap: a rerun is too
        outcome.seconds = time.perf_counter() - started
        outcome.cpu_seconds = time.thread_time() - cpu
        outcome.lane = "cheap"
        return outcome

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
