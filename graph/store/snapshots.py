"""Read-only snapshots of an on-disk store, for the query workers of other processes.

Why it is built this way: pyoxigraph documents `Store.read_only` on a directory that another
process writes as undefined behaviour (a worker once failed with a missing `.sst` file). So no
process ever opens the live store but its owner, the server; after a commit the server writes a
checkpoint with `Store.backup` (RocksDB hard-links the table files: tens of milliseconds at half a
million triples, most of it flushing the memtable) into a directory of its own, and the workers
open that read-only. Nobody writes a checkpoint after it is made, so opening it read-only from
any number of processes is defined behaviour.

Snapshots are made in the background, after the write was acknowledged, and a burst of commits is
covered by one snapshot (`publish` coalesces): a write's answer never waits for a checkpoint, and
a worker reopens at most once per burst. A worker-lane query that must see the newest commit
waits for the snapshot that covers it (`wait_for`), so a client that got its 200 still reads its
own write in the next query.

A checkpoint is made ahead of demand (`committed`) only while there is demand: when a worker
asked for a snapshot since the last commit. Otherwise the first worker query to ask makes it.
A checkpoint flushes RocksDB's memtables to new table files, about 18 ms of CPU after a small
commit on this machine, half of what the server process spent on a write once validation ran in
its own process; editors writing while readers use only the cheap lane (or nobody reads) made
one per commit for nobody (docs/benchmarks.md, "Validation in a process of its own").

Each snapshot is counted while a worker has it open; one that is neither the newest nor open is
deleted. A worker keeps its snapshot open until it takes a job on a newer one, so a query that
started before a commit finishes on the data it started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graph.store.embedded import SNAPSHOT_MARKER, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """A checkpoint of the store: the data version it holds and its directory."""

    version: int
    path: str


class Snapshots:
    """The checkpoints of one store: made after commits, counted while open, deleted after."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root
        shutil.rmtree(root, ignore_errors=True)  # a previous run's: nobody can still hold them
        root.mkdir(parents=True)
        self.current: Snapshot | None = None
        self.timings: list[float] = []
        """Seconds each checkpoint took (the most recent 1000), for the benchmark."""
        self._users: dict[int, int] = {}
        self._lock = threading.Lock()
        self._wanted = 0
        self._running: asyncio.Task | None = None
        self._asked = False
        """A worker asked for a snapshot since the last commit's (`committed`, `wait_for`)."""
        self._changed: asyncio.Condition | None = None
        self.on_publish: Callable[[Snapshot], None] | None = None

    # --- making them -----------------------------------------------------------------------

    def make(self, version: int) -> Snapshot:
        """Checkpoint the store now (blocking) and make it the current snapshot."""
        started = time.perf_counter()
        path = self.root / f"v{version:08d}"
        if path.exists():  # a half-made one (its marker missing): never opened by anyone
            shutil.rmtree(path)
        self.store.backup(path)
        (path / SNAPSHOT_MARKER).write_text(f"{version}\n")
        self.timings = self.timings[-999:] + [time.perf_counter() - started]
        snapshot = Snapshot(version, str(path))
        with self._lock:
            old, self.current = self.current, snapshot
        if old is not None:
            self._collect(old)
        return snapshot

    def publish(self, version: int) -> None:
        """Ask for a snapshot of at least `version`; one checkpoint covers a burst of commits.

        Called on the event loop; the checkpoint is made in a thread.
        """
        self._wanted = max(self._wanted, version)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._catch_up())

    def committed(self, version: int) -> None:
        """A commit made `version` current: checkpoint it now if workers are reading (one asked
        since the last commit), else when a worker first asks for it (`wait_for`)."""
        if self._asked:
            self._asked = False
            self.publish(version)

    async def _catch_up(self) -> None:
        loop = asyncio.get_running_loop()
        if self._changed is None:
            self._changed = asyncio.Condition()
        try:
            while self.current is None or self.current.version < self._wanted:
                wanted = self._wanted
                try:
                    snapshot = await loop.run_in_executor(None, self.make, wanted)
                except Exception:  # noqa: BLE001 - the disk: logged, tried at the next commit
                    log.exception("could not checkpoint the store for version %s", wanted)
                    return
                async with self._changed:
                    self._changed.notify_all()
                if self.on_publish is not None:
                    self.on_publish(snapshot)
        finally:
            self._running = None
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, version: int) -> Snapshot:
        """The newest snapshot, once it holds at least `version`."""
        self._asked = True
        current = self.current
        if current is not None and current.version >= version:
            return current
        if self._changed is None:
            self._changed = asyncio.Condition()
        self.publish(version)  # a commit may have left it to the first worker that asks
        async with self._changed:
            await self._changed.wait_for(
                lambda: (self.current is not None and self.current.version >= version)
                or self._running is None)
        if self.current is None or self.current.version < version:
            raise OSError("the store could not be checkpointed for the query workers")
        return self.current

    # --- who holds them ----------------------------------------------------------------------

    def acquire_current(self) -> Snapshot | None:
        """The newest snapshot, counted as held (never deleted before `release`)."""
        with self._lock:
            snapshot = self.current
            if snapshot is not None:
                self._users[snapshot.version] = self._users.get(snapshot.version, 0) + 1
            return snapshot

    def acquire(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._users[snapshot.version] = self._users.get(snapshot.version, 0) + 1

    def release(self, snapshot: Snapshot) -> None:
        with self._lock:
            left = self._users.get(snapshot.version, 0) - 1
            if left > 0:
                self._users[snapshot.version] = left
                return
            self._users.pop(snapshot.version, None)
        self._collect(snapshot)

    def _collect(self, snapshot: Snapshot) -> None:
        with self._lock:
            if snapshot.version in self._users or snapshot == self.current:
                return
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(snapshot.path)

    def on_disk(self) -> list[int]:
        """The versions whose checkpoint is on disk now (for tests and the benchmark)."""
        return sorted(int(p.name[1:]) for p in self.root.iterdir() if p.name.startswith("v"))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
