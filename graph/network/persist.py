"""Network results kept on disk per data version, so a restart with unchanged data reuses them.

Why: at world scale reading the partnership web out of the store takes seconds and the
expensive measures (communities, distances, betweenness) tens of seconds; none of it changes
unless the data does. Each data version has a folder named by its durable key (a digest of the
datasets, the triple count and the store's last-applied-change marker, see server/cache.py):
`data.pickle` holds the network data read from the store, and one JSON file per answer
(named by a digest of the endpoint and its parameters). Files are written to a temporary name
and renamed, so a reader never sees half a file and a crash leaves none; only the newest
`keep` versions are kept. A file that cannot be read is treated as absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3


class ResultStore:
    """JSON answers and pickled network data under `root/<durable key>/`."""

    def __init__(self, root: Path, keep: int = KEEP_VERSIONS) -> None:
        self.root = Path(root)
        self.keep = keep

    @staticmethod
    def name(*parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()
                              ).hexdigest()[:24]

    def _folder(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str, name: str) -> Any | None:
        try:
            return json.loads((self._folder(key) / f"{name}.json").read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, key: str, name: str, value: Any) -> None:
        self._write(key, f"{name}.json",
                    json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())

    def get_data(self, key: str) -> Any | None:
        try:
            with (self._folder(key) / "data.pickle").open("rb") as handle:
                return pickle.load(handle)  # noqa: S301 - our own file, written below
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def get_pickled(self, key: str) -> bytes | None:
        """The network data of `key` as kept on disk (pickled), or None."""
        try:
            return (self._folder(key) / "data.pickle").read_bytes()
        except OSError:
            return None

    def put_data(self, key: str, data: Any) -> None:
        self.put_pickled(key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))

    def put_pickled(self, key: str, body: bytes) -> None:
        """Keep network data pickled elsewhere (graph.network.process)."""
        self._write(key, "data.pickle", body)

    def _write(self, key: str, filename: str, body: bytes) -> None:
        folder = self._folder(key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            os.replace(tmp, folder / filename)
            os.utime(folder)
        except OSError as exc:  # a full or read-only disk costs a recomputation, not an answer
            log.warning("could not keep a network result in %s: %s", folder, exc)
            return
        self._prune(key)

    def _prune(self, current: str) -> None:
        try:
            folders = [f for f in self.root.iterdir() if f.is_dir() and f.name != current]
        except OSError:
            return
        folders.sort(key=lambda f: f.stat().st_mtime, reverse=True)
        for old in folders[self.keep - 1:]:
            if time.time() - old.stat().st_mtime > 1:  # not one being written right now
                shutil.rmtree(old, ignore_errors=True)


class Background:
    """One daemon thread that runs the long network computations, one at a time.

    A daemon, not a thread pool: a server that stops does not wait for a half-done measure
    (tens of seconds at world scale); one at a time, so that background work takes at most
    one core from the readers.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="network-measures", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._jobs.put((work, future))
        return future

    def _run(self) -> None:
        while True:
            work, future = self._jobs.get()
            if work is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                future.set_exception(exc)

    def stop(self) -> None:
        self._jobs.put((None, None))
