"""Derived views (counts, VoID statistics, /health's count, network results): never block a read.

Why it is built this way: a derived view is a function of the whole graph, so computing it in a
reader's path after every write made each write cost the next reader seconds (22 s for the
network measures at world scale). Here every view is kept with the data version it describes
(`app.state.data_version`, bumped by each commit):

- a read takes the kept value whatever its version, and the answer says which version it
  describes (`X-Data-Version`, and `X-Current-Data-Version` when that is older than the data);
  only the very first read of a view, when nothing is kept, computes it in its path;
- a stale view is recomputed in the background, one computation at a time per view and at most
  once per `CITYDIP_DERIVED_INTERVAL` seconds, so a burst of writes costs one recomputation, not
  one per write;
- a view is recomputed after a write only if a request read it since its last computation
  began (the start's warm-up reads ahead and does not count). One that nobody read stays stale
  until it is next asked for: that reader gets the kept value, its version stated, and the
  recomputation starts behind it. At world scale the views that nobody read while editors
  wrote (the front page's counts, VoID's entities, `partner-links-beyond`, the network's data)
  took 9 s of CPU in 20 s, half a core of two, from the readers (docs/benchmarks.md);
- a view that can follow a write from the write's changeset (triples, triples per graph, per
  property, resources per class, the front page's groups and classes, the graphs' licences)
  registers an updater: after each commit it is moved to the new version from the added and
  removed quads, with index lookups for the few resources touched, and is never recounted.
  An updater applies only to a value computed against exactly the previous version (a
  computation that saw a commit land meanwhile is recomputed instead).

The keeper also holds what makes a version durable across restarts (`durable_key`): a digest of
the datasets, the triple count and the store's last-applied-change marker, under which the
network results are persisted on disk. Views named with `keep_on_disk` (the front page's and
VoID's counts) are written there too when computed or moved by writes, and a restart reads
them back instead of counting again: at world scale the first `/` after a start otherwise
waited seconds for its counting queries.

Why the keeper stays one module (about 420 lines): reading, recomputing, following commits and
keeping on disk all act on the same per-view state (kept value, its version, the task, the
timer, whether it was asked for) under one rule, that a value is kept only for the version it
was computed or moved to; split, each part would reach into the others' fields. What an answer
says of its version, the request's side, is server/versions.py; what the updaters look up in a
commit is server/following.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import pyoxigraph as ox
from fastapi import Request

from graph.core.terms import RDFS_SUBCLASS_OF
from server.admission import servers_own
from server.versions import describes

log = logging.getLogger(__name__)

RESULTS_FORMAT = 1
"""Bumped when the persisted form of a derived view changes: older files are not reused."""


_ahead: ContextVar[bool] = ContextVar("citydip_derived_ahead", default=False)


def reading_ahead() -> None:
    """Mark the current task (the start's warm-up) as the server reading views ahead of its
    visitors: what it reads is not thereby asked for (`Derived.asked`), so a view no visitor
    reads is not recomputed after every write because the warm-up once made it."""
    _ahead.set(True)


class Recount(Exception):
    """An updater cannot follow this change cheaply: recompute the view in the background."""


@dataclass
class Change:
    """One commit as the updaters see it: effective added and removed quads (marker included),
    and the store after the commit for lookups."""

    added: frozenset[ox.Quad]
    removed: frozenset[ox.Quad]
    store: Any = None
    looked_up: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the updaters looked up in the store and share, within a commit and across commits
    until one changes it: the class tree (server/following.py), read in 1–3 ms by a scan."""

    def count(self, subject=None, predicate=None, obj=None, named_only: bool = True) -> int:
        """Quads in the store now matching the pattern (named graphs only by default)."""
        return sum(1 for q in self.store.quads_for_pattern(subject, predicate, obj, None)
                   if not (named_only and isinstance(q.graph_name, ox.DefaultGraph)))


Updater = Callable[[Any, Change], Any]


@dataclass
class Kept:
    version: Any
    value: Any
    compute: Callable[[], Awaitable[Any]]
    exact: bool = True
    """Computed against exactly `version` (no commit landed while it was computed)."""
    at: float = field(default_factory=time.monotonic)


class Derived:
    """The derived views of one app, kept per data version (see the module docstring)."""

    def __init__(self, current: Callable[[], Any], interval: float = 5.0,
                 share: float = 0.25, max_wait: float = 60.0) -> None:
        self.current = current
        self.interval = interval
        self.share = share
        """Most of the time one view's recomputations may take (CITYDIP_DERIVED_SHARE)."""
        self.max_wait = max_wait
        """Most seconds between two starts of a view's recomputation (CITYDIP_DERIVED_MAX_WAIT)."""
        self.costs: dict[str, float] = {}
        """Seconds the last computation of each view took."""
        self.kept: dict[str, Kept] = {}
        self.updaters: dict[str, Updater] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.started: dict[str, float] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.asked: set[str] = set()
        """Views read by a request since their last computation began: only these are
        recomputed after a write before anyone asks for them again."""
        self.recomputations: dict[str, int] = {}
        """How many times each view was computed (for tests and benchmarks)."""
        self.triples: int | None = None
        self.marker: frozenset[ox.Quad] = frozenset()
        self.looked_up: dict[str, Any] = {}
        """The updaters' shared lookups (`Change.looked_up`), dropped by a commit that changes
        the class tree and whenever the views could not follow a commit."""
        self.datasets = ""
        self.durable: dict[Any, str] = {}
        self.disk: Any = None
        """Where views are kept across restarts (a graph.network.persist.ResultStore), if any."""
        self.on_disk: set[str] = set()
        self.unsaved: set[str] = set()
        """Views kept on disk that a commit moved and that are not written out yet: written
        at most once per interval (`_save`), and when the server stops."""
        self.saving: asyncio.TimerHandle | None = None

    # --- reading ---------------------------------------------------------------------------------

    async def get(self, key: str, compute: Callable[[], Awaitable[Any]],
                  max_age: float | None = None, fresh: bool = False) -> tuple[Any, Any]:
        """The kept value and the version it describes; computed here only when none is kept,
        or, with `fresh`, when it does not describe the current version (a download of the
        data must hold the last write; a count may lag)."""
        if not _ahead.get():
            self.asked.add(key)
        kept = self.kept.get(key)
        if fresh and kept is not None:
            for _ in range(2):  # a recomputation already running may be for an older version
                if kept.version == self.current() and (
                        max_age is None or time.monotonic() - kept.at < max_age):
                    break
                kept.compute = compute
                task = self.tasks.get(key) or self._start(key, compute, self.current())
                await asyncio.shield(task)
                kept = self.kept[key]
            return kept.value, kept.version
        if kept is None and key not in self.tasks:
            kept = await self._read_back(key, compute)
            if kept is not None:
                return kept.value, kept.version
        if kept is None:
            task = self.tasks.get(key) or self._start(key, compute, self.current())
            await asyncio.shield(task)
            kept = self.kept[key]
            return kept.value, kept.version
        kept.compute = compute
        if kept.version != self.current() or (
                max_age is not None and time.monotonic() - kept.at >= max_age):
            self.schedule(key)
        return kept.value, kept.version

    def peek(self, key: str) -> Kept | None:
        return self.kept.get(key)

    def pending(self) -> list[str]:
        """The views being computed now or due to be (their interval has not passed): the
        work the server still has to do to catch up with the writes. A stale view nobody read
        since the write is not here: it is recomputed when next asked."""
        return sorted(set(self.tasks) | set(self.timers))

    def forget(self, key: str) -> None:
        """Drop a view (kept value, pending recomputation); what is on disk stays."""
        self.kept.pop(key, None)
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    # --- across restarts -------------------------------------------------------------------------

    def keep_on_disk(self, key: str) -> None:
        """Write `key` beside the persisted network results when computed, read it back at
        the next start with the same data (a JSON value)."""
        self.on_disk.add(key)

    def _disk_place(self, key: str, version: Any) -> tuple[Any, str, str] | None:
        durable = self.durable_key(version)
        if self.disk is None or key not in self.on_disk or durable is None:
            return None
        return self.disk, durable, self.disk.name("derived-view", key)

    async def _read_back(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Kept | None:
        version = self.current()
        place = self._disk_place(key, version)
        if place is None:
            return None
        disk, durable, name = place
        value = await asyncio.to_thread(disk.get, durable, name)
        if value is None or key in self.kept:
            return self.kept.get(key)
        self.kept[key] = Kept(version, value, compute, exact=True)
        return self.kept[key]

    async def _write_out(self, key: str, kept: Kept) -> None:
        await asyncio.to_thread(self._put, key, kept)

    def _put(self, key: str, kept: Kept) -> None:
        """Write `kept` beside the network results (blocking), if `key` is kept on disk."""
        place = self._disk_place(key, kept.version) if kept.exact else None
        if place is not None:
            disk, durable, name = place
            try:
                disk.put(durable, name, kept.value)
            except (OSError, TypeError, ValueError):
                log.exception("the derived view %s could not be kept on disk", key)

    # --- recomputing -----------------------------------------------------------------------------

    def _start(self, key: str, compute: Callable[[], Awaitable[Any]], version: Any
               ) -> asyncio.Task:
        self.started[key] = time.monotonic()
        self.asked.discard(key)
        # for every reader: not charged to the client whose request started it
        task = asyncio.get_running_loop().create_task(self._run(key, compute, version),
                                                      context=servers_own())
        self.tasks[key] = task
        return task

    async def _run(self, key: str, compute: Callable[[], Awaitable[Any]], version: Any) -> None:
        try:
            value = await compute()
            self.costs[key] = time.monotonic() - self.started[key]
            self.recomputations[key] = self.recomputations.get(key, 0) + 1
            old, now = self.kept.get(key), self.current()
            # an updater may have moved the kept value to the current version meanwhile
            if not (old is not None and old.exact and old.version == now and version != now):
                self.kept[key] = Kept(version, value, compute, exact=now == version)
                await self._write_out(key, self.kept[key])
        except Exception:
            if key not in self.kept:
                raise  # the reader waiting for the first value sees the failure
            log.exception("recomputing the derived view %s failed; the kept one is served", key)
            return
        finally:
            self.tasks.pop(key, None)
        if key in self.asked and (self.kept[key].version != self.current()
                                  or not self.kept[key].exact):
            self.schedule(key)

    def schedule(self, key: str) -> None:
        """Recompute `key` in the background: now, or when the interval since the last start
        has passed; never twice at once. A view whose computation is long waits longer: at
        most `share` of the time goes to recomputing it (at world scale the network takes
        seconds of CPU, and recomputing it every 5 s while editors wrote took a core from the
        readers)."""
        if key in self.tasks or key in self.timers or key not in self.kept:
            return
        spacing = max(self.interval, self.costs.get(key, 0.0) / self.share if self.share else 0.0)
        spacing = min(spacing, max(self.interval, self.max_wait))
        wait = self.started.get(key, float("-inf")) + spacing - time.monotonic()
        if wait <= 0:
            self._start(key, self.kept[key].compute, self.current())
        else:
            self.timers[key] = asyncio.get_running_loop().call_later(wait, self._due, key)

    def _due(self, key: str) -> None:
        self.timers.pop(key, None)
        kept = self.kept.get(key)
        if kept is not None and (kept.version != self.current() or not kept.exact):
            self.schedule(key)

    def register(self, key: str, updater: Updater) -> None:
        """Let `key` follow each commit from its changeset instead of being recomputed."""
        self.updaters[key] = updater

    # --- after a commit --------------------------------------------------------------------------

    def follow(self, version: Any, added: Iterable[ox.Quad], removed: Iterable[ox.Quad],
               store: Any, marker: Callable[[], Iterable]) -> dict[str, Any]:
        """What the views that follow commits become at `version`, from a commit's changeset
        (blocking: run in the write's thread, under the server's write lock, so the store holds
        exactly this version). `marker()` gives the marker quads after the commit (the writer
        changes them too). `moved` then makes them current."""
        previous = _previous(version)
        now_marker = frozenset(marker())
        change = Change(frozenset(added) | (now_marker - self.marker),
                        frozenset(removed) | (self.marker - now_marker), store, self.looked_up)
        if any(q.predicate == RDFS_SUBCLASS_OF for q in change.added | change.removed):
            self.looked_up.clear()
        self.marker = now_marker
        if self.triples is not None:
            self.triples += len(change.added) - len(change.removed)
            self.durable[version] = self._durable_key()
        moved: dict[str, Any] = {}
        for key, kept in list(self.kept.items()):
            updater = self.updaters.get(key)
            if (updater is None or not kept.exact or kept.version != previous
                    or key in self.tasks):
                continue
            try:
                moved[key] = updater(kept.value, change)
            except Recount:
                continue
        return moved

    def moved(self, version: Any, moved: dict[str, Any] | None) -> None:
        """`version` is current: the views `follow` moved are kept at it; the rest (every one,
        with `moved` None: the commit could not be followed) are stale, and those read since
        their last computation began are scheduled to be recomputed."""
        if moved is None:
            self.triples = None
            self.looked_up.clear()
            for kept in self.kept.values():
                kept.exact = False
            moved = {}
        for key, value in moved.items():
            kept = self.kept[key]
            self.kept[key] = Kept(version, value, kept.compute, exact=True)
            if key in self.on_disk:
                self.unsaved.add(key)
        if self.unsaved and self.saving is None:
            # once per interval, not per write: the last version's is what a restart reads
            self.saving = asyncio.get_running_loop().call_later(self.interval, self._save)
        for key in list(self.kept):
            if key not in moved and key in self.asked:
                self.schedule(key)

    # --- durable versions ------------------------------------------------------------------------

    def open(self, triples: int, marker: Iterable[ox.Quad], datasets: str) -> None:
        """What the store holds at start: the durable key of the first version."""
        self.triples, self.marker, self.datasets = triples, frozenset(marker), datasets
        self.durable[self.current()] = self._durable_key()

    def durable_key(self, version: Any) -> str | None:
        """A key that names the data of `version` across restarts, None if unknown."""
        return self.durable.get(version)

    def _durable_key(self) -> str:
        # the marker's objects are IRIs or literals
        marker = sorted(cast("ox.NamedNode | ox.Literal", q.object).value for q in self.marker)
        text = f"{RESULTS_FORMAT}|{self.datasets}|{self.triples}|{marker}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def _save(self) -> None:
        self.saving = None
        for key in self.unsaved:
            if (kept := self.kept.get(key)) is not None:
                asyncio.get_running_loop().create_task(self._write_out(key, kept))
        self.unsaved.clear()

    def close(self) -> None:
        """Stop recomputing; write out the views that commits moved since the last save
        (blocking: the server is stopping), so that a restart reads the last version's."""
        for timer in self.timers.values():
            timer.cancel()
        for task in self.tasks.values():
            task.cancel()
        if self.saving is not None:
            self.saving.cancel()
            self.saving = None
        for key in self.unsaved:
            if (kept := self.kept.get(key)) is not None:
                self._put(key, kept)
        self.unsaved.clear()


def _previous(version: Any) -> Any:
    return version - 1 if isinstance(version, int) else None


def derived(app) -> Derived:
    """The app's keeper of derived views (made on first use)."""
    state = app.state
    keeper = getattr(state, "derived", None)
    if keeper is None:
        settings = getattr(state, "settings", None)
        spacing = {} if settings is None else {  # without settings, Derived's own defaults
            "interval": settings.derived_interval, "share": settings.derived_share,
            "max_wait": settings.derived_max_wait}
        keeper = Derived(lambda: getattr(state, "data_version", 0), **spacing)
        state.derived = keeper
    return keeper


async def per_data_version(request: Request, key: str, compute: Callable[[], Awaitable[Any]],
                           max_age: float | None = None, fresh: bool = False) -> Any:
    """The value kept under `key`: computed on first use, then recomputed in the background
    after writes (served from the previous version meanwhile, and the answer says so).

    `max_age` (seconds) also renews it when it is older, for data that may change elsewhere
    (a remote store shared by several servers).
    """
    value, version = await derived(request.app).get(key, compute, max_age, fresh)
    describes(request, version)
    return value


def follow_commit(app, result, version: Any) -> dict[str, Any] | None:
    """What the derived views become after a committed write (a `graph.write.writer.Result`)
    that makes `version` current: blocking, in the write's own thread under the write lock, so
    that the write does not wait for the event loop twice more. None (every view recomputed)
    if they cannot follow it: never fails the write."""
    from graph.write.changes import META_GRAPH
    from graph.write.writer import MARKER

    keeper = derived(app)
    store = app.state.backend.writer.store

    def marker() -> list[ox.Quad]:
        return list(store.quads_for_pattern(META_GRAPH, MARKER, None, META_GRAPH))

    try:
        return keeper.follow(version, result.change.added | result.derived.added,
                             result.change.removed | result.derived.removed, store, marker)
    except Exception:  # noqa: BLE001 - the write stands; the views are recounted instead
        log.exception("derived views could not follow the commit; recomputing them")
        return None


def views_moved(app, version: Any, moved: dict[str, Any] | None) -> None:
    """On the event loop, once `version` is current: what `follow_commit` worked out."""
    derived(app).moved(version, moved)
